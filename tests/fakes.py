"""Fakes for the engine's tests that enforce the provider lifecycle instead of recording calls.

FakeCloud keeps objects in memory and refuses calls the engine must never make: apply of an address it
was not asked to plan, a create without a write-ahead `intend`, a delete of an object that does not exist,
any call after `close`. FakeMachines does the same for NixOS machines (install before update).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from providers.base import (
    ApplyRequest,
    ApplyResponse,
    ImportRequest,
    InstallState,
    Journal,
    MachineRecord,
    ObservedResource,
    PlanRequest,
    PlanResponse,
    Price,
    ProviderConfig,
    RecordedResource,
    RefreshRequest,
    RefreshResponse,
    ResourceKind,
    TypeInfo,
    address_label,
)
from reconciler.actions import Action
from reconciler.errors import ProviderError
from reconciler.plan.decide import with_unknown_computed
from reconciler.values import UNKNOWN


class LifecycleViolation(AssertionError):
    pass


@dataclass
class Cloud:
    """The fake outside world, shared by provider instances across runs (as a real cloud is)."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> attributes (+ "_address")
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    fail: set[str] = field(default_factory=set)  # addresses whose next apply raises
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, address)
    delay: float = 0.0
    toplevels: dict[str, str] = field(default_factory=dict)  # machine address -> desired toplevel
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # machine address -> deployed state


CLOUD_TYPES = {
    "hcloud_server": TypeInfo(ResourceKind.CLOUD, frozenset({"id", "ipv4_address", "ipv6_address", "status"})),
    "hcloud_ssh_key": TypeInfo(ResourceKind.CLOUD, frozenset({"id", "fingerprint"})),
    "google_compute_instance": TypeInfo(ResourceKind.CLOUD, frozenset({
        "id", "instance_id", "status", "network_interface.*.network_ip",
        "network_interface.*.access_config.*.nat_ip"})),
}
REPLACE_ON = {"image", "location", "zone", "machine_type", "public_key", "guest_accelerator", "boot_disk"}


class FakeCloud:
    max_parallel = 4

    def __init__(self, config: ProviderConfig, world: Cloud) -> None:
        self.name = config.name
        self.lineage = config.lineage
        self.world = world
        self.planned: set[str] = set()
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise LifecycleViolation("call after close")

    def types(self) -> Mapping[str, TypeInfo]:
        return {t: i for t, i in CLOUD_TYPES.items() if t.startswith(self.name)}

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]:
        self._check_open()
        out = []
        for r in requests:
            self.planned.add(r.address)
            planned = dict(r.config)
            replace: tuple[str, ...] = ()
            if r.prior is not None:
                planned = _merge(dict(r.prior.attributes), {k: v for k, v in r.config.items() if v is not None})
                replace = tuple(sorted(k for k in REPLACE_ON if k in r.config and
                                       r.config[k] != r.prior.attributes.get(k)))
            else:
                planned = with_unknown_computed(planned, self.types()[r.type])
            labels = r.config.get("labels")
            warn = labels.get("warn") if isinstance(labels, Mapping) else None  # a test's way to raise a warning
            out.append(PlanResponse(r.address, planned, replace, warnings=(warn,) if warn else ()))
        return out

    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        self._check_open()
        self.world.calls.append(("refresh", self.name))
        found, gone = {}, set()
        for rec in request.recorded:
            obj = self.world.objects.get(rec.id or "")
            if obj is None:
                gone.add(rec.address)
            else:
                found[rec.address] = ObservedResource(rec.id or "", _public(obj))
        labels = {address_label(a): a for a, _ in request.wanted}
        adopted = {labels[o["_label"]]: ObservedResource(i, _public(o)) for i, o in self.world.objects.items()
                   if o.get("_label") in labels and o.get("_lineage") == self.lineage}
        return RefreshResponse(found, frozenset(gone), adopted)

    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        self._check_open()
        if request.action is not Action.DELETE and request.address not in self.planned:
            raise LifecycleViolation(f"apply of {request.address} without plan")
        self.world.calls.append((request.action.value, request.address))
        if self.world.delay:
            await asyncio.sleep(self.world.delay)
        if request.address in self.world.fail:
            raise ProviderError(f"injected failure for {request.address}", code="injected")
        if request.action is Action.CREATE:
            if request.prior is not None:
                raise LifecycleViolation("create with a prior object")
            journal.intend(name=request.planned.get("name"))
            new_id = str(next(self.world.ids))
            attrs = {**request.planned, "id": new_id, "status": "running"}
            for name in sorted(self.types()[request.type].computed - {"id", "status"}):
                if "." not in name:
                    attrs[name] = f"203.0.113.{new_id}" if name == "ipv4_address" else f"{name}-{new_id}"
            attrs["network_interface"] = [
                {**nic, "network_ip": f"10.0.0.{new_id}",
                 "access_config": [{**ac, "nat_ip": f"198.51.100.{new_id}"} for ac in nic.get("access_config", [])]}
                for nic in attrs.get("network_interface", [])] if "network_interface" in attrs else None
            if attrs["network_interface"] is None:
                del attrs["network_interface"]
            self.world.objects[new_id] = {**attrs, "_label": address_label(request.address),
                                          "_lineage": self.lineage}
            journal.record(new_id, attrs)
            return ApplyResponse(new_id, attrs)
        if request.prior is None or request.prior.id not in self.world.objects:
            raise LifecycleViolation(f"{request.action.value} of {request.address}, which does not exist")
        if request.action is Action.DELETE:
            journal.intend(request_id=f"delete-{request.prior.id}")  # as Google records its operation's id
            del self.world.objects[request.prior.id]
            return ApplyResponse(None, {})
        if request.action is Action.UPDATE:
            obj = self.world.objects[request.prior.id]
            obj.update(request.planned)
            attrs = {**request.planned, **{k: obj[k] for k in self.types()[request.type].computed if k in obj}}
            return ApplyResponse(request.prior.id, attrs)
        raise LifecycleViolation(f"unexpected action {request.action}")

    async def import_resource(self, request: ImportRequest) -> ObservedResource:
        obj = self.world.objects[request.id]
        return ObservedResource(request.id, _public(obj))

    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None:
        if type_ == "hcloud_ssh_key":
            return Price(0.0, "EUR", "fake")
        kind = attributes.get("server_type") or attributes.get("machine_type")
        prices = {"cx22": 4.59, "cx32": 7.59, "e2-standard-4": 97.83, "g2-standard-8": 620.5}
        return Price(prices[kind], "EUR", "fake") if kind in prices else None

    async def close(self) -> None:
        self.closed = True


def _merge(prior: Any, config: Any) -> Any:
    """The configuration over what is recorded; computed values nested in blocks are carried over."""
    if isinstance(prior, dict) and isinstance(config, dict):
        return {**prior, **{k: _merge(prior.get(k), v) for k, v in config.items()}}
    if isinstance(prior, list) and isinstance(config, list) and len(prior) == len(config):
        return [_merge(p, c) for p, c in zip(prior, config, strict=True)]
    return config


def _public(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


class FakeMachines:
    """nixos_machine: toplevels come from `world.toplevels`; install must precede update."""

    max_parallel = 8
    name = "nixos"

    def __init__(self, config: ProviderConfig, world: Cloud) -> None:
        self.world = world

    def types(self) -> Mapping[str, TypeInfo]:
        return {"nixos_machine": TypeInfo(ResourceKind.MACHINE, frozenset({"toplevel", "host_key"}))}

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]:
        self.world.calls.append(("nix-eval", str(len(requests))))
        out = []
        for r in requests:
            planned = dict(r.config)
            planned["toplevel"] = self.world.toplevels.get(r.address, UNKNOWN)
            planned["host_key"] = (r.prior.attributes.get("host_key") if r.prior else None) or UNKNOWN
            out.append(PlanResponse(r.address, planned))
        return out

    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        return RefreshResponse({r.address: ObservedResource(r.id or r.address, dict(r.attributes), dict(r.private))
                                for r in request.recorded}, frozenset())

    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        self.world.calls.append((request.action.value, request.address))
        if request.address in self.world.fail:
            raise ProviderError(f"activation failed on {request.address}; rolled back", code="rollback")
        host = request.planned["target_host"]
        if not isinstance(host, str) or not host:
            raise LifecycleViolation(f"{request.address}: target_host not known at apply: {host!r}")
        if request.action is Action.NIXOS_UPDATE and request.address not in self.world.hosts:
            raise LifecycleViolation(f"update of {request.address} before any install")
        key = (request.prior.attributes.get("host_key") if request.prior else None) or f"ssh-ed25519 KEY{host}"
        toplevel = (request.planned.get("toplevel") or self.world.toplevels.get(request.address)
                    or "/nix/store/00000000000000000000000000000000-nixos-system-default")
        attrs = {**request.planned, "toplevel": toplevel, "host_key": key}
        if request.action is Action.INSTALL:
            for phase in ("kexec", "disko", "install", "reboot"):
                journal.phase(phase)
                journal.record(request.address, attrs, {"install_phase": phase})
        self.world.hosts[request.address] = {"toplevel": toplevel, "host": host}
        return ApplyResponse(request.address, attrs, {"install_phase": "done"})

    async def import_resource(self, request: ImportRequest) -> ObservedResource:
        raise ProviderError("not supported")

    def machine_record(self, recorded: RecordedResource) -> MachineRecord:
        phase = recorded.private.get("install_phase")
        state = InstallState.DONE if phase == "done" else InstallState.PARTIAL if phase else InstallState.NOT_STARTED
        return MachineRecord(state, recorded.attributes.get("toplevel"), recorded.attributes.get("host_key"),
                             recorded.attributes.get("current_toplevel"))

    def forget_install(self, recorded: RecordedResource) -> RecordedResource:
        return replace(recorded, attributes={k: v for k, v in recorded.attributes.items() if k != "toplevel"},
                       private={k: v for k, v in recorded.private.items() if k != "install_phase"})

    def prepare_plan(self, recorded: Sequence[RecordedResource]) -> None:
        self.world.calls.extend(("prepare", r.address) for r in recorded)  # nothing slow to start here

    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None:
        return None

    async def close(self) -> None:
        return None


def factories(world: Cloud) -> dict[str, Any]:
    return {"hcloud": lambda c: FakeCloud(c, world), "google": lambda c: FakeCloud(c, world),
            "nixos": lambda c: FakeMachines(c, world)}
