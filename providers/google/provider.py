"""The `google` provider: `google_compute_instance` through the Compute Engine API.

Create inserts with a `request_id` written to the journal first (a retry after a crash reuses it, and the
API answers with the same operation instead of a second instance), records the id as soon as the insert
is accepted, waits on the zone operation with bounded `wait` calls, and moves on to the next of `zones`
when a zone has no capacity. Update sets labels, metadata and tags in place with their fingerprints;
delete carries a request id too. Blocking client calls run on a small thread pool; the journal is only
ever called from the event loop.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from providers.base import (
    LABEL_ADDRESS,
    LABEL_LINEAGE,
    ApplyRequest,
    ApplyResponse,
    ConfigProblem,
    ImportRequest,
    Journal,
    ObservedResource,
    PlanRequest,
    PlanResponse,
    Price,
    ProviderConfig,
    RefreshRequest,
    RefreshResponse,
    ResourceKind,
    TypeInfo,
    address_label,
    ownership_labels,
)
from providers.google.attributes import (
    candidate_zones,
    desired,
    gpus_of,
    insert_body,
    instance_id,
    metadata_items,
    observed,
    parse_id,
    short,
)
from providers.google.failures import CallFailed, Kind, as_provider_error, from_operation
from providers.google.images import Kind as ImageKind
from providers.google.images import resolve as resolve_image
from providers.google.planning import fill, plan_one
from providers.google.prices import monthly_price
from providers.google.refresh import AcceleratorCatalog, refresh_instances
from providers.google.retry import RetryPolicy
from providers.google.rules import check_instance
from reconciler.actions import Action
from reconciler.errors import ProviderError
from reconciler.values import UNKNOWN

if TYPE_CHECKING:
    import asyncio

    from providers.google.api import ComputeApi

T = TypeVar("T")
TYPE = "google_compute_instance"
TYPES = {TYPE: TypeInfo(ResourceKind.CLOUD, frozenset({
    "id", "instance_id", "status", "network_interface.*.network_ip", "network_interface.*.access_config.*.nat_ip"}))}


def recordable(value: Any) -> Any:
    """A copy fit for state: UNKNOWN (not known yet) becomes None."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: recordable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [recordable(v) for v in value]
    return value


# Compute Engine's per-project rate quotas are 1,500 requests a minute for each group (mutations, reads,
# operation reads). A step costs about 4 of them (an insert or delete, one or two bounded operation waits, a
# get), so 375 steps may start within one minute; each in-flight step holds one of the apply's threads in
# its operation wait (the engine gives an apply at most 32), which caps it lower.
QUOTA_PER_MINUTE = 1500
REQUESTS_PER_STEP = 4
MAX_THREADS = 32
DEFAULT_PARALLEL = min(QUOTA_PER_MINUTE // REQUESTS_PER_STEP, MAX_THREADS)


class GoogleProvider:
    name = "google"

    def __init__(self, config: ProviderConfig, *, retry: RetryPolicy | None = None,
                 operation_timeout: float = 1800.0, max_parallel: int = DEFAULT_PARALLEL) -> None:
        self.settings = dict(config.settings)
        self.lineage = config.lineage
        self.max_parallel = max_parallel
        self.operation_timeout = operation_timeout
        self.retry = retry or RetryPolicy()
        self._api: ComputeApi | None = None
        self._catalog = AcceleratorCatalog()
        self._images: dict[str, str] = {}  # configured image -> resolved source image, for this run
        self._image_lock: asyncio.Lock | None = None  # one resolution of each image, however many creates

    # ------------------------------------------------------------------ offline
    def types(self) -> Mapping[str, TypeInfo]:
        return TYPES

    def check_config(self, address: str, type_: str, config: Mapping[str, Any]) -> list[ConfigProblem]:
        """What Compute Engine would refuse, from the dated catalogue (rules.py); no network."""
        return check_instance(config, self.settings.get("zone")) if type_ == TYPE else []

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]:
        return [plan_one(r, self.settings.get("zone")) for r in requests]

    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None:
        machine = short(attributes.get("machine_type"))
        zone = attributes.get("zone")
        if not isinstance(zone, str):
            zones = candidate_zones(attributes, self.settings.get("zone"))
            zone = zones[0] if zones else (f"{self.settings['region']}-a" if self.settings.get("region") else None)
        if type_ != TYPE or not isinstance(machine, str) or not isinstance(zone, str):
            return None
        return monthly_price(machine, zone.rsplit("-", 1)[0], gpus_of({**attributes, "machine_type": machine}))

    # ------------------------------------------------------------------ plumbing
    @property
    def api(self) -> ComputeApi:
        """The API door, built (and the SDK imported) on first use: validate and offline plans never pay."""
        if self._api is None:
            from providers.google.api import ComputeApi

            self._api = ComputeApi(self.settings, self.retry)
        return self._api

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        # the loop's default executor: during an apply the engine's write-ahead one, as wide as the apply's steps
        import asyncio  # here: `validate` and an offline plan never start an event loop

        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))

    async def _wait(self, op: Mapping[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.operation_timeout
        return await self._run(self.api.wait, op, deadline)

    async def close(self) -> None:
        if self._api is not None:
            self._api.close()

    # ------------------------------------------------------------------ refresh / import
    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        if not request.recorded and not request.wanted:
            return RefreshResponse({}, frozenset())
        try:
            return await self._run(refresh_instances, self.api, self.lineage, request, self._catalog)
        except CallFailed as e:
            raise as_provider_error(e.failure, "refreshing google_compute_instance") from e

    async def import_resource(self, request: ImportRequest) -> ObservedResource:
        try:
            _, zone, name = parse_id(request.id)
        except ValueError as e:
            raise ProviderError(f"{request.address}: {e}") from e
        try:
            inst = await self._run(self.api.get, zone, name)
        except CallFailed as e:
            raise as_provider_error(e.failure, f"importing {request.id}") from e
        if inst is None:
            raise ProviderError(f"{request.address}: no instance {name} in zone {zone} of project {self.api.project}",
                                hint="the id is ZONE/NAME, e.g. europe-west4-a/gpu-1")
        return ObservedResource(instance_id(self.api.project, zone, name), observed(self.api.project, inst, None),
                                {"zone": zone})

    # ------------------------------------------------------------------ apply
    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        try:
            if request.action is Action.CREATE:
                return await self._create(request, journal)
            if request.action is Action.DELETE:
                return await self._delete(request, journal)
            if request.action is Action.UPDATE:
                return await self._update(request, journal)
        except CallFailed as e:
            raise as_provider_error(e.failure, f"{request.address}: {request.action.value}") from e
        raise ProviderError(f"{request.address}: the google provider cannot {request.action.value}")

    async def _create(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        config = request.planned
        zones = candidate_zones(config, self.settings.get("zone"))
        if not zones:
            raise ProviderError(f"{request.address}: no zone to create the instance in",
                                hint='set zone or zones = [...] on the resource, or zone in provider "google"')
        project = self.api.project
        name = str(config["name"])
        labels = ownership_labels(self.lineage, request.address)
        pending = dict(request.pending)
        start, reuse = 0, None
        if pending.get("request_id") and pending.get("zone") in zones:
            start, reuse = zones.index(pending["zone"]), str(pending["request_id"])
        exhausted: list[str] = []
        source = await self._source_image(request)
        for zone in zones[start:]:
            want = desired(config, zone)
            request_id, reuse = reuse or str(uuid.uuid4()), None
            journal.intend(request_id=request_id, zone=zone, name=name)
            try:
                op = await self._run(self.api.insert, zone, insert_body(want, project, zone, labels, source),
                                     request_id)
            except CallFailed as e:
                failure = e.failure
                if failure.kind is Kind.STOCKOUT:
                    exhausted.append(zone)
                    journal.phase(f"no capacity in {zone}")
                    continue
                if failure.kind is Kind.CONFLICT:
                    return await self._claim(request, journal, zone, want)
                raise as_provider_error(failure, f"{request.address}: creating {name} in {zone}") from e
            id_ = instance_id(project, zone, name)
            journal.record(id_, recordable({**want, "id": id_, "instance_id": op.get("targetId"),
                                            "status": "PROVISIONING"}), {"zone": zone, "request_id": request_id})
            journal.phase(f"creating {name} in {zone}")
            outcome = from_operation(await self._wait(op))
            if outcome is not None and outcome.kind is Kind.STOCKOUT:
                exhausted.append(zone)
                journal.phase(f"no capacity in {zone}")
                continue
            if outcome is not None:
                raise as_provider_error(outcome, f"{request.address}: creating {name} in {zone}")
            inst = await self._running(zone, name, journal)
            if inst is None:
                raise ProviderError(f"{request.address}: {name} vanished from {zone} right after it was created",
                                    retryable=True)
            return ApplyResponse(id_, observed(project, inst, want), {"zone": zone})
        gpus = gpus_of(desired(config, zones[0]))
        what = str(config.get("machine_type")) + "".join(f" with {n} x {t}" for t, n in sorted(gpus.items()))
        raise ProviderError(f"{request.address}: no capacity for {what} in {', '.join(exhausted)} "
                            "(ZONE_RESOURCE_POOL_EXHAUSTED)", code="ZONE_RESOURCE_POOL_EXHAUSTED", retryable=True,
                            hint="add zones to zones = [...] or try again later")

    async def _running(self, zone: str, name: str, journal: Journal) -> dict[str, Any] | None:
        """The instance once it is past PROVISIONING and STAGING (its operation can be done before), or as it
        is when the operation time allowed runs out; None if it is gone."""
        import asyncio

        deadline = time.monotonic() + self.operation_timeout
        inst = await self._run(self.api.get, zone, name)
        while inst is not None and inst.get("status") in ("PROVISIONING", "STAGING") and \
                time.monotonic() < deadline:
            journal.phase(f"{name} is {inst.get('status')}")
            await asyncio.sleep(self.retry.status_poll)
            inst = await self._run(self.api.get, zone, name)
        return inst

    async def _source_image(self, request: ApplyRequest) -> str | None:
        """The configured image resolved as Terraform's google provider does (image first, then family)."""
        try:
            image = request.planned["boot_disk"][0]["initialize_params"][0]["image"]
        except (KeyError, IndexError, TypeError):
            return None
        if not isinstance(image, str) or not image:
            return None
        if self._image_lock is None:
            import asyncio

            self._image_lock = asyncio.Lock()
        async with self._image_lock:
            if image not in self._images:
                self._images[image] = await self._resolve(request.address, image)
        return self._images[image]

    async def _resolve(self, address: str, image: str) -> str:
        api = self.api

        def exists(project: str, kind: ImageKind, name: str) -> bool:
            return api.image_exists(project, kind is ImageKind.FAMILY, name)

        try:
            return await self._run(resolve_image, image, api.project, exists)
        except CallFailed:
            raise
        except ProviderError as e:
            raise ProviderError(f"{address}: {e.message}", hint=e.hint) from e

    async def _claim(self, request: ApplyRequest, journal: Journal, zone: str, want: dict[str, Any]) -> ApplyResponse:
        """The name is taken in `zone`: take the instance over if an earlier attempt of ours made it."""
        project, name = self.api.project, str(want["name"])
        inst = await self._run(self.api.get, zone, name)
        labels = (inst or {}).get("labels") or {}
        if inst is None or labels.get(LABEL_ADDRESS) != address_label(request.address) or \
                labels.get(LABEL_LINEAGE) != self.lineage:
            raise ProviderError(f"{request.address}: an instance named {name} already exists in {zone} and this "
                                "configuration did not create it", code="alreadyExists",
                                hint=f"import it (reconciler import {request.address} {zone}/{name}) or rename")
        id_ = instance_id(project, zone, name)
        journal.record(id_, recordable(observed(project, inst, want)), {"zone": zone})
        return ApplyResponse(id_, observed(project, inst, want), {"zone": zone})

    def _where(self, request: ApplyRequest) -> tuple[str, str]:
        prior = request.prior
        if prior is None or prior.id is None:
            raise ProviderError(f"{request.address}: no recorded instance to {request.action.value}")
        _, zone, name = parse_id(prior.id)
        return zone, name

    async def _delete(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        zone, name = self._where(request)
        pending = dict(request.pending)
        request_id = str(pending["request_id"]) if pending.get("request_id") and pending.get("name") == name \
            else str(uuid.uuid4())
        journal.intend(request_id=request_id, zone=zone, name=name)
        op = await self._run(self.api.delete, zone, name, request_id)
        if op is None:
            return ApplyResponse(None, {})
        journal.phase(f"deleting {name} in {zone}")
        failure = from_operation(await self._wait(op))
        if failure is not None:
            raise as_provider_error(failure, f"{request.address}: deleting {name} in {zone}")
        return ApplyResponse(None, {})

    async def _update(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        zone, name = self._where(request)
        prior = request.prior.attributes if request.prior is not None else {}
        project = self.api.project
        want = fill(desired(request.planned, zone), prior)
        owned = ownership_labels(self.lineage, request.address)
        for _attempt in range(3):
            inst = await self._run(self.api.get, zone, name)
            if inst is None:
                raise ProviderError(f"{request.address}: {name} no longer exists in {zone}", retryable=True,
                                    hint="run plan again; it will be created anew")
            now = observed(project, inst, prior)
            try:
                if now["labels"] != want["labels"]:
                    op = await self._run(self.api.set_labels, zone, name, {**want["labels"], **owned},
                                         inst.get("labelFingerprint", ""))
                    await self._finish(op, journal, request.address, "setting labels")
                if now["metadata"] != want["metadata"]:
                    op = await self._run(self.api.set_metadata, zone, name, metadata_items(want["metadata"]),
                                         (inst.get("metadata") or {}).get("fingerprint", ""))
                    await self._finish(op, journal, request.address, "setting metadata")
                if now["tags"] != want["tags"]:
                    op = await self._run(self.api.set_tags, zone, name, list(want["tags"]),
                                         (inst.get("tags") or {}).get("fingerprint", ""))
                    await self._finish(op, journal, request.address, "setting tags")
                if want.get("desired_status") == "RUNNING" and now["desired_status"] != "RUNNING":
                    # stopped by host maintenance (GPUs cannot migrate) or Spot preemption: start it again
                    op = await self._run(self.api.start, zone, name, str(uuid.uuid4()))
                    await self._finish(op, journal, request.address, f"starting {name} ({now['status']})")
            except CallFailed as e:
                if e.failure.kind is Kind.PRECONDITION:
                    continue  # changed under us: read the fingerprints again
                raise
            inst = await self._run(self.api.get, zone, name)
            if inst is None:
                raise ProviderError(f"{request.address}: {name} vanished from {zone} during the update", retryable=True)
            return ApplyResponse(instance_id(project, zone, name), observed(project, inst, want), {"zone": zone})
        raise ProviderError(f"{request.address}: {name} kept changing while its labels/metadata were set",
                            retryable=True, hint="try again")

    async def _finish(self, op: Mapping[str, Any], journal: Journal, address: str, doing: str) -> None:
        journal.phase(doing)
        failure = from_operation(await self._wait(op))
        if failure is not None:
            raise as_provider_error(failure, f"{address}: {doing}")
