"""The `nixos` provider: the `nixos_machine` resource type (CONTRACT §2) against providers.base. `plan`
evaluates every machine's desired toplevel in one nix process and says which host key will be pinned;
`refresh` reads /run/current-system from every installed machine in parallel; `apply` installs (`>`) or
updates (`^`); `import_resource` adopts a running NixOS machine. Nothing touches the network before the first
refresh, apply or import, and what only those use (asyncssh, the install and deploy steps) is imported
when first used, so `validate` and an offline plan do not pay for it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping, Sequence
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
)
from reconciler.actions import Action
from reconciler.errors import NotAvailableError, ProviderError, ReconcilerError
from reconciler.nixos.context import Context, Settings
from reconciler.nixos.evaluate import Evaluated, Evaluation, EvalUnavailable, evaluate, start
from reconciler.nixos.machine import (
    CURRENT,
    DEFAULTS,
    FlakeRef,
    MachineSpec,
    machine_name,
    parse_spec,
    resolve_flake,
    split_target,
)
from reconciler.values import UNKNOWN, is_known
from reconciler.vars import public_host_key

TYPE = "nixos_machine"
INSTALL_PHASE = "install_phase"  # private: the install phase reached; INSTALL_DONE once the install is complete
INSTALL_DONE = "done"
TYPES = {TYPE: TypeInfo(ResourceKind.MACHINE, frozenset({"toplevel", "host_key"}))}


def _install_enabled(config: Mapping[str, Any]) -> bool:
    block = config.get("install")
    if isinstance(block, (list, tuple)):
        block = block[0] if block else {}
    return not (isinstance(block, Mapping) and block.get("enabled") is False)


class NixosProvider:
    name = "nixos"

    def __init__(self, config: ProviderConfig) -> None:
        self.settings = Settings.from_mapping(config.settings)
        self.max_parallel = max(1, self.settings.parallelism)
        self.workdir = config.workdir
        self.ctx = Context.create(self.settings, config.workdir)
        self.eval_processes = 0  # nix eval processes started by plan() (one per plan call at most)
        # started by prepare_plan: the recorded flake references (address -> reference) and their evaluation
        self._early: tuple[dict[str, str], Evaluation] | None = None

    def types(self) -> Mapping[str, TypeInfo]:
        return TYPES

    # -- plan -------------------------------------------------------------------------------------------------

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]:
        flakes: dict[str, str | None] = {}  # machine address -> its flake reference as configured
        for r in requests:
            flake = r.config.get("flake")
            # only a machine with a deployed toplevel needs its desired one now (update or not); a new machine's
            # closure is evaluated and built by its install, so a plan of a fresh fleet runs no nix at all
            deployed = r.prior.attributes.get("toplevel") if r.prior is not None else None
            if is_known(flake) and deployed:
                flakes[r.address] = flake
        notes: tuple[str, ...] = ()
        evaluated: dict[str, Evaluated] = {}
        try:
            if flakes:
                evaluated = self._evaluate(flakes)
        except EvalUnavailable:
            notes = (f"nix ({self.settings.nix}) is not installed here: the toplevel is known after the build",)
        # one directory listing instead of a lookup per machine: most machines of a new fleet have no vars yet
        per_machine = self.ctx.vars.root / "per-machine"
        with_vars = frozenset(os.listdir(per_machine)) if per_machine.is_dir() else frozenset()
        return [self._plan_one(r, evaluated.get(r.address), notes, with_vars) for r in requests]

    def prepare_plan(self, recorded: Sequence[RecordedResource]) -> None:
        """Start evaluating, in the background, the machines state records as deployed, with the flakes it
        records: the planner plans the clouds meanwhile. plan() takes what still matches the configuration."""
        flakes = {r.address: r.attributes["flake"] for r in recorded
                  if isinstance(r.attributes.get("flake"), str) and r.attributes["flake"] and
                  r.attributes.get("toplevel")}
        if flakes and self._early is None:
            with contextlib.suppress(EvalUnavailable, OSError):
                self._early = (flakes, start(self.ctx.tool, self._resolved(flakes)))
                self.eval_processes += 1

    def _resolved(self, flakes: Mapping[str, str | None]) -> dict[str, FlakeRef]:
        return {address: resolve_flake(flake, machine_name(address), self.workdir) for address, flake in flakes.items()}

    def _evaluate(self, flakes: Mapping[str, str | None]) -> dict[str, Evaluated]:
        """The toplevels of `flakes` (address -> flake reference as configured): from the evaluation
        prepare_plan started where the configured reference is the recorded one, and one more nix process for
        the rest (a flake reference changed, a machine new to state)."""
        early, self._early = self._early, None
        found: dict[str, Evaluated] = {}
        if early is not None:
            recorded, evaluation = early
            same = [a for a, f in flakes.items() if a in recorded and recorded[a] == f]
            if same:
                with contextlib.suppress(ReconcilerError):  # e.g. a machine since removed from the flake
                    results = evaluation.result()
                    found = {a: results[a] for a in same if a in results}
        rest = {a: f for a, f in flakes.items() if a not in found}
        if rest:
            self.eval_processes += 1
            found.update(evaluate(self.ctx.tool, self._resolved(rest)))
        return found

    def _plan_one(self, r: PlanRequest, ev: Evaluated | None, notes: tuple[str, ...],
                  with_vars: frozenset[str]) -> PlanResponse:
        planned: dict[str, Any] = {**DEFAULTS}
        planned.update({k: v for k, v in r.config.items() if v is not None})
        planned["toplevel"] = ev.toplevel if ev is not None else UNKNOWN
        prior = r.prior.attributes if r.prior is not None else {}
        name = machine_name(r.address)
        configured = r.config.get("host_key")
        out_notes = list(notes)
        if configured:
            planned["host_key"] = configured
            pinned = prior.get("host_key")
            if isinstance(pinned, str) and pinned.split()[:2] != str(configured).split()[:2]:
                out_notes.append(f"host_key changes from the pinned {_fingerprint(pinned)} to the declared "
                                 f"{_fingerprint(str(configured))}: only a host presenting it is updated")
        elif _install_enabled(r.config):
            key = (public_host_key(self.ctx.vars, name) if name in with_vars else None) or prior.get("host_key")
            planned["host_key"] = key or UNKNOWN
            if not key:
                out_notes.append("a new ssh_host_key is generated before the install and pinned")
        else:
            planned["host_key"] = prior.get("host_key") or UNKNOWN
            if not prior.get("host_key"):
                out_notes.append("no host_key given: the first connection pins the key the host presents")
        return PlanResponse(r.address, planned, notes=tuple(out_notes))

    # -- refresh ----------------------------------------------------------------------------------------------

    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        from reconciler.nixos.refresh import refresh

        return await refresh(self.ctx, request)

    # -- apply ------------------------------------------------------------------------------------------------

    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        if request.action is Action.INSTALL:
            return await self.install(request, journal)
        if request.action is Action.NIXOS_UPDATE:
            return await self.update(request, journal)
        raise NotAvailableError(f"{request.action.value} is not an action for {request.address} "
                                f"(nixos_machine is installed and updated, never created or deleted)")

    async def _desired(self, spec: MachineSpec, planned: Mapping[str, Any]) -> str:
        toplevel = planned.get("toplevel")
        if isinstance(toplevel, str) and toplevel:
            return toplevel
        try:
            self.eval_processes += 1
            return evaluate(self.ctx.tool, {spec.address: spec.flake})[spec.address].toplevel
        except EvalUnavailable:
            raise ProviderError(f"cannot build {spec.name}: nix ({self.settings.nix}) is not installed",
                                hint="install nix (Debian: nix-bin) on the machine running reconciler") from None

    async def install(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        """Install NixOS (`>`); `request.connect_to` ("[user@]host[:port]") overrides where to reach the machine
        for this install only (`machines install NAME --target-host H`); state keeps the configured address."""
        from reconciler.nixos.deploy import update
        from reconciler.nixos.install import install

        planned = dict(request.planned)
        spec = parse_spec(request.address, planned, self.workdir)
        if not spec.install.enabled:
            raise ProviderError(f"{spec.name} has install {{ enabled = false }}: the reconciler does not install it",
                                hint="install NixOS by other means; the reconciler then updates it")
        if request.connect_to:
            user, host, port = split_target(request.connect_to)
            spec = dataclasses.replace(spec, target_host=host, target_user=user or spec.target_user,
                                       target_port=port or spec.target_port)
        toplevel = await self._desired(spec, planned)
        reached = request.prior.private.get(INSTALL_PHASE) if request.prior is not None else None
        result = await install(self.ctx, spec, planned, reached, journal)
        attributes = {**planned, "host_key": result.host_key, "toplevel": result.toplevel}
        if result.toplevel is not None and result.toplevel != toplevel:
            # an install found in place (state lost) or a system that changed since: bring it to the plan
            deployed = await update(self.ctx, spec, toplevel, result.host_key, journal)
            attributes["toplevel"] = deployed.toplevel
        # the engine's word for a complete install (the last phase alone would not say that: phases can be chosen)
        return ApplyResponse(spec.name, attributes, private={INSTALL_PHASE: INSTALL_DONE})

    async def update(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        """Update NixOS (`^`): build, copy, activate with magic rollback, confirm, health-check."""
        from reconciler.nixos.deploy import update
        from reconciler.nixos.ssh import ANY_KEY

        planned = dict(request.planned)
        spec = parse_spec(request.address, planned, self.workdir)
        toplevel = await self._desired(spec, planned)
        prior = request.prior.attributes if request.prior is not None else {}
        pinned = spec.host_key or prior.get("host_key") or ANY_KEY
        deployed = await update(self.ctx, spec, toplevel, pinned, journal)
        self.ctx.known_hosts.pin(spec.name, spec.target_host, spec.target_port, deployed.host_key)
        attributes = {**planned, "toplevel": deployed.toplevel, "host_key": deployed.host_key}
        private = dict(request.prior.private) if request.prior is not None else {}
        return ApplyResponse(spec.name, attributes, private=private)

    # -- import -----------------------------------------------------------------------------------------------

    async def import_resource(self, request: ImportRequest) -> ObservedResource:
        """Adopt a running NixOS machine; ID is [user@]host[:port]; its present host key is pinned."""
        from reconciler.nixos import activate
        from reconciler.nixos.ssh import ANY_KEY, Endpoint
        from reconciler.nixos.transfer import split_host

        user, host, port = split_host(request.id)
        endpoint = Endpoint(host, port, user or "root")
        session = await self.ctx.pool.get(endpoint, ANY_KEY)
        current = (await activate.probe(session)).current
        self.ctx.pool.drop(endpoint)
        name = machine_name(request.address)
        self.ctx.known_hosts.pin(name, host, port, session.host_key)
        attrs = {"target_host": host, "target_port": port, "target_user": user or "root",
                 "host_key": session.host_key, "toplevel": current}
        return ObservedResource(name, attrs, {INSTALL_PHASE: INSTALL_DONE})

    # -- typed records ----------------------------------------------------------------------------------------

    def machine_record(self, recorded: RecordedResource) -> MachineRecord:
        phase = recorded.private.get(INSTALL_PHASE)
        state = InstallState.DONE if phase == INSTALL_DONE else InstallState.PARTIAL if phase else \
            InstallState.NOT_STARTED
        attrs = recorded.attributes
        return MachineRecord(state, _text(attrs.get("toplevel")), _text(attrs.get("host_key")),
                             _text(attrs.get(CURRENT)))

    def forget_install(self, recorded: RecordedResource) -> RecordedResource:
        """The machine's host went away: a later install starts over; the pinned host key is kept."""
        private = {k: v for k, v in recorded.private.items() if k != INSTALL_PHASE}
        attrs = {k: v for k, v in recorded.attributes.items() if k not in ("toplevel", CURRENT)}
        return dataclasses.replace(recorded, attributes=attrs, private=private)

    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None:
        return None

    async def close(self) -> None:
        await self.ctx.close()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _fingerprint(key: str) -> str:
    from reconciler.nixos.ssh import fingerprint

    try:
        return fingerprint(key)
    except Exception:  # not a key asyncssh can read: show what was given
        return key.split()[1][:16] + "…" if len(key.split()) > 1 else key[:24]
