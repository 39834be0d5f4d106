"""The emulator's world: instances per project and zone, zone operations that go PENDING -> RUNNING -> DONE
over scaled time and carry their effect (an instance becomes RUNNING, vanishes, gets its labels), requestId
dedupe, capacity stockouts and quotas, fingerprints, and filtered, paged listings.

Time is computed, not simulated: an operation knows when it starts and ends, and every call first applies
the effects of operations whose end has passed (`_tick`). All state sits behind one condition variable, so
`zoneOperations.wait` can sleep until its operation is due without holding the lock.
"""

from __future__ import annotations

import functools
import heapq
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from providers.addresses import AddressAllocator, LoopbackAddresses
from providers.google.emulator_catalog import API_ROOT, all_zones
from providers.google.emulator_knobs import Knobs
from providers.google.emulator_resources import (
    ApiError,
    Usage,
    build_instance,
    exceeded_quota,
    fingerprint,
    last_segment,
    metadata_resource,
    not_found,
    stockout_error,
    validate_labels,
)

LOOPBACK_NET = "127.2.0.0/16"  # the default addresses of new instances (see providers/addresses.py)
NAT_PENDING = "0.0.0.0"  # an ephemeral NAT IP not yet given (the insert is still being checked)
Key = tuple[str, str, str]  # project, zone, name


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _not_ready(project: str, zone: str, name: str) -> ApiError:
    """GCE's 400 for an instance that an operation is still changing."""
    return ApiError(400, f"The resource 'projects/{project}/zones/{zone}/instances/{name}' is not ready",
                    "resourceNotReady")


_Call = TypeVar("_Call", bound=Callable[..., dict[str, Any]])


def _mutation(method: _Call) -> _Call:
    """An API call that changes the world (`request_id`, its last argument, is the request's `requestId`):
    under the lock, operations now due are finished first, and a requestId seen before is answered with its
    first operation, as GCE answers a retried request."""
    @functools.wraps(method)
    def call(self: ComputeModel, project: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with self.cond:
            self._tick()
            again = self._deduped(project, kwargs["request_id"] if "request_id" in kwargs else args[-1])
            return again if again is not None else method(self, project, *args, **kwargs)

    return cast(_Call, call)


@dataclass
class _Operation:
    resource: dict[str, Any]
    start_at: float
    done_at: float
    error: dict[str, Any] | None = None  # {"errors": [...]} when it fails
    http_error: tuple[int, str] | None = None
    effect: Callable[[], None] | None = None
    finished: bool = False


@dataclass
class _Instance:
    resource: dict[str, Any]
    usage: Usage
    staging_at: float = 0.0
    deleting: bool = False
    busy: _Operation | None = None  # the operation on it that is still running
    running_at: float = 0.0  # when a STAGING instance whose operation is done becomes RUNNING


@dataclass
class _Project:
    instances: dict[tuple[str, str], _Instance] = field(default_factory=dict)  # (zone, name)
    operations: dict[tuple[str, str], _Operation] = field(default_factory=dict)  # (zone, op name)
    request_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # requestId -> (zone, op name)
    nat_in_use: set[str] = field(default_factory=set)


class ComputeModel:
    def __init__(self, knobs: Knobs | None = None, clock: Callable[[], float] = time.monotonic,
                 addresses: AddressAllocator | None = None) -> None:
        self.knobs = knobs or Knobs()
        self.addresses = addresses or LoopbackAddresses(LOOPBACK_NET)
        self.clock = clock
        self.cond = threading.Condition()
        self.projects: dict[str, _Project] = {}
        self._due: list[tuple[float, int, str, str, str]] = []  # (done_at, seq, project, zone, op)
        self._seq = 0
        self._random = random.Random(self.knobs.seed)

    # ------------------------------------------------------------------ time and operations
    def _project(self, project: str) -> _Project:
        return self.projects.setdefault(project, _Project())

    def _seconds(self, emulated: float) -> float:
        return emulated * self.knobs.time_scale

    def _tick(self) -> None:
        now = self.clock()
        while self._due and self._due[0][0] <= now:
            _, _, project, zone, name = heapq.heappop(self._due)
            op = self._project(project).operations[(zone, name)]
            self._finish(op)

    def settle(self) -> None:
        """Finish every operation now (for seeding a world without waiting)."""
        with self.cond:
            while self._due:
                _, _, project, zone, name = heapq.heappop(self._due)
                self._finish(self._project(project).operations[(zone, name)])

    def _finish(self, op: _Operation) -> None:
        if op.finished:
            return
        op.finished = True
        if op.effect is not None:
            op.effect()
        op.resource.update(status="DONE", progress=100, endTime=_now_text())
        if op.error is not None:
            op.resource["error"] = op.error
            if op.http_error is not None:
                op.resource["httpErrorStatusCode"], op.resource["httpErrorMessage"] = op.http_error
        self.cond.notify_all()

    def _operation(self, project: str, zone: str, kind: str, target: str, target_id: str,
                   request_id: str | None) -> _Operation:
        now = self.clock()
        duration = self._seconds(float(self.knobs.durations.get(kind, 2.0)))
        name = f"operation-{int(time.time() * 1000)}-{secrets.token_hex(6)}"
        base = f"{API_ROOT}/projects/{project}/zones/{zone}"
        resource = {"kind": "compute#operation", "id": str(self._random.getrandbits(63)), "name": name,
                    "zone": base, "operationType": kind, "targetLink": f"{base}/instances/{target}",
                    "targetId": target_id, "status": "PENDING", "user": "emulator@sandbox.iam.gserviceaccount.com",
                    "progress": 0, "insertTime": _now_text(), "selfLink": f"{base}/operations/{name}"}
        op = _Operation(resource, now + min(duration * 0.1, self._seconds(1.0)), now + duration)
        proj = self._project(project)
        proj.operations[(zone, name)] = op
        if request_id:
            proj.request_ids[request_id] = (zone, name)
        self._seq += 1
        heapq.heappush(self._due, (op.done_at, self._seq, project, zone, name))
        return op

    def _render_op(self, op: _Operation) -> dict[str, Any]:
        out = dict(op.resource)
        if not op.finished and self.clock() >= op.start_at:
            span = max(op.done_at - op.start_at, 1e-9)
            out.update(status="RUNNING", startTime=out.get("startTime") or _now_text(),
                       progress=int(100 * min(1.0, (self.clock() - op.start_at) / span)) // 2)
        return out

    def _deduped(self, project: str, request_id: str | None) -> dict[str, Any] | None:
        if not request_id:
            return None
        where = self._project(project).request_ids.get(request_id)
        return self._render_op(self._project(project).operations[where]) if where else None

    # ------------------------------------------------------------------ instances
    def _check_zone(self, project: str, zone: str) -> None:
        if zone not in all_zones():
            raise not_found(f"projects/{project}/zones/{zone}")

    def _instance(self, project: str, zone: str, name: str) -> _Instance:
        self._check_zone(project, zone)
        inst = self._project(project).instances.get((zone, name))
        if inst is None:
            raise not_found(f"projects/{project}/zones/{zone}/instances/{name}")
        return inst

    def _mutable(self, project: str, zone: str, name: str) -> _Instance:
        """The instance, if no operation on it is still running (else 400 resourceNotReady, as GCE answers)."""
        inst = self._instance(project, zone, name)
        if self.knobs.not_ready_while_busy and inst.busy is not None and not inst.busy.finished:
            raise _not_ready(project, zone, name)
        return inst

    def _busy_op(self, inst: _Instance, project: str, zone: str, kind: str, name: str,
                 request_id: str | None) -> _Operation:
        """A new operation on the instance, which stays busy until it is done."""
        op = self._operation(project, zone, kind, name, inst.resource["id"], request_id)
        inst.busy = op
        return op

    def _render_instance(self, inst: _Instance) -> dict[str, Any]:
        if inst.resource["status"] == "STAGING" and inst.running_at and self.clock() >= inst.running_at:
            inst.resource["status"] = "RUNNING"
        out = json.loads(json.dumps(inst.resource))
        if out["status"] == "PROVISIONING" and self.clock() >= inst.staging_at:
            out["status"] = "STAGING"
        return out

    def _allocate(self, name: str) -> str:
        """The instance's address (its network IP, and its NAT IP unless knobs.nat_ips has one free)."""
        try:
            return self.addresses.allocate(name)
        except Exception as e:  # the allocator's own failure (no address, a host that did not start)
            raise ApiError(403, f"Quota 'IN_USE_ADDRESSES' exceeded: {e}", "quotaExceeded") from None

    def _nat_ip(self, proj: _Project, address: str) -> str:
        for ip in self.knobs.nat_ips:
            if ip not in proj.nat_in_use:
                return ip
        return address

    @_mutation
    def insert(self, project: str, zone: str, body: Mapping[str, Any], request_id: str | None) -> dict[str, Any]:
        self._check_zone(project, zone)
        proj = self._project(project)
        name = str(body.get("name") or "")
        if (zone, name) in proj.instances:
            raise ApiError(409, f"The resource 'projects/{project}/zones/{zone}/instances/{name}' already exists",
                           "alreadyExists")
        machine = last_segment(str(body.get("machineType") or ""), "machineTypes")
        instance_id = str(self._random.getrandbits(63))
        resource, usage = build_instance(project, zone, body, instance_id=instance_id,
                                         created=_now_text(), network_ip="", nat_ip=lambda: NAT_PENDING,
                                         withdrawn=self.knobs.withdrawn,
                                         networks=("default", *self.knobs.networks),
                                         images=self.knobs.images)
        stockout = next((s for s in self.knobs.stockouts if s.matches(zone, machine, list(usage.gpus))), None)
        if stockout is not None and stockout.at_once:
            raise stockout_error(project, zone, machine, usage)
        quota = exceeded_quota(self.knobs.quotas, (i.usage for i in proj.instances.values()), usage)
        if quota is not None and not self.knobs.quota_in_operation:
            raise ApiError(403, quota["message"], "quotaExceeded", domain="usageLimits")
        address = self._allocate(name) if quota is None else ""
        op = self._operation(project, zone, "insert", name, instance_id, request_id)
        if quota is not None:
            op.error, op.http_error = {"errors": [quota]}, (403, "FORBIDDEN")
            return self._render_op(op)
        for i, nic in enumerate(resource["networkInterfaces"]):
            if i == 0:
                nic["networkIP"] = address
            for ac in nic.get("accessConfigs", []):
                if ac.get("natIP") == NAT_PENDING:
                    ac["natIP"] = self._nat_ip(proj, address)
                proj.nat_in_use.add(ac["natIP"])
        inst = _Instance(resource, usage, staging_at=op.start_at + (op.done_at - op.start_at) / 2, busy=op)
        proj.instances[(zone, name)] = inst
        if stockout is not None:
            error = stockout_error(project, zone, machine, usage)
            op.error = {"errors": [{"code": "ZONE_RESOURCE_POOL_EXHAUSTED", "message": error.message,
                                    "errorDetails": error.details}]}
            op.http_error = (503, "SERVICE UNAVAILABLE")
            op.effect = lambda: self._remove(project, zone, name, inst)
        else:
            op.effect = lambda: self._started(inst)
        return self._render_op(op)

    def _started(self, inst: _Instance) -> None:
        if not inst.deleting:
            staging = self._seconds(self.knobs.staging_after_done)
            inst.resource["status"] = "STAGING" if staging else "RUNNING"
            inst.running_at = self.clock() + staging
            inst.resource["lastStartTimestamp"] = _now_text()

    def _remove(self, project: str, zone: str, name: str, inst: _Instance) -> None:
        proj = self._project(project)
        if proj.instances.get((zone, name)) is inst:
            del proj.instances[(zone, name)]
            for i, nic in enumerate(inst.resource["networkInterfaces"]):
                for ac in nic.get("accessConfigs", []):
                    proj.nat_in_use.discard(ac["natIP"])
                if i == 0:
                    self.addresses.release(nic["networkIP"])

    @_mutation
    def delete(self, project: str, zone: str, name: str, request_id: str | None) -> dict[str, Any]:
        inst = self._mutable(project, zone, name)
        inst.deleting = True
        inst.resource["status"] = "STOPPING"
        op = self._busy_op(inst, project, zone, "delete", name, request_id)
        op.effect = lambda: self._remove(project, zone, name, inst)
        return self._render_op(op)

    @_mutation
    def set_labels(self, project: str, zone: str, name: str, body: Mapping[str, Any],
                   request_id: str | None) -> dict[str, Any]:
        inst = self._mutable(project, zone, name)
        if body.get("labelFingerprint") != inst.resource["labelFingerprint"]:
            raise ApiError(412, "Labels fingerprint either invalid or resource labels have changed",
                           "conditionNotMet")
        labels = validate_labels(body.get("labels"))

        def effect() -> None:
            inst.resource.pop("labels", None)
            if labels:
                inst.resource["labels"] = labels
            inst.resource["labelFingerprint"] = fingerprint(labels)

        op = self._busy_op(inst, project, zone, "setLabels", name, request_id)
        op.effect = effect
        return self._render_op(op)

    @_mutation
    def set_metadata(self, project: str, zone: str, name: str, body: Mapping[str, Any],
                     request_id: str | None) -> dict[str, Any]:
        inst = self._mutable(project, zone, name)
        if body.get("fingerprint") != inst.resource["metadata"]["fingerprint"]:
            raise ApiError(412, "Supplied fingerprint does not match current metadata fingerprint.",
                           "conditionNotMet")
        metadata = metadata_resource(body.get("items"))
        op = self._busy_op(inst, project, zone, "setMetadata", name, request_id)
        op.effect = lambda: inst.resource.__setitem__("metadata", metadata)
        return self._render_op(op)

    @_mutation
    def set_tags(self, project: str, zone: str, name: str, body: Mapping[str, Any],
                 request_id: str | None) -> dict[str, Any]:
        inst = self._mutable(project, zone, name)
        if body.get("fingerprint") != inst.resource["tags"]["fingerprint"]:
            raise ApiError(412, "Supplied fingerprint does not match current tags fingerprint.",
                           "conditionNotMet")
        items = [str(t) for t in body.get("items") or []]
        tags = {"items": items, "fingerprint": fingerprint(items)} if items else {"fingerprint": fingerprint(items)}
        op = self._busy_op(inst, project, zone, "setTags", name, request_id)
        op.effect = lambda: inst.resource.__setitem__("tags", tags)
        return self._render_op(op)

    @_mutation
    def start(self, project: str, zone: str, name: str, request_id: str | None) -> dict[str, Any]:
        """instances.start: a TERMINATED instance goes STAGING, then RUNNING; a running one stays as it is."""
        inst = self._mutable(project, zone, name)
        if inst.resource["status"] == "STOPPING":
            raise _not_ready(project, zone, name)
        op = self._busy_op(inst, project, zone, "start", name, request_id)
        if inst.resource["status"] == "TERMINATED":
            inst.resource["status"] = "STAGING"
            inst.running_at = 0.0  # until the start operation is done
            op.effect = lambda: self._started(inst)
        return self._render_op(op)

    def terminate(self, project: str, zone: str, name: str, reason: str) -> dict[str, Any]:
        """What GCE does on its own: stop a GPU instance for host maintenance, or preempt a Spot one."""
        with self.cond:
            self._tick()
            inst = self._instance(project, zone, name)
            sched = inst.resource["scheduling"]
            if reason == "preemption" and not sched.get("preemptible"):
                raise ValueError(f"{name} is neither Spot nor preemptible: it cannot be preempted")
            if reason == "maintenance" and sched.get("onHostMaintenance") != "TERMINATE":
                raise ValueError(f"{name} live-migrates (onHostMaintenance MIGRATE): maintenance does not stop it")
            if reason not in ("maintenance", "preemption"):
                raise ValueError(f"unknown reason {reason!r} (maintenance or preemption)")
            inst.resource.update(status="TERMINATED", lastStopTimestamp=_now_text())
            self.cond.notify_all()
            return self._render_instance(inst)

    def get_instance(self, project: str, zone: str, name: str) -> dict[str, Any]:
        with self.cond:
            self._tick()
            return self._render_instance(self._instance(project, zone, name))

    # ------------------------------------------------------------------ operations
    def get_operation(self, project: str, zone: str, name: str) -> dict[str, Any]:
        with self.cond:
            self._tick()
            op = self._project(project).operations.get((zone, name))
            if op is None:
                raise not_found(f"projects/{project}/zones/{zone}/operations/{name}")
            return self._render_op(op)

    def wait_operation(self, project: str, zone: str, name: str) -> dict[str, Any]:
        """Blocks until the operation is DONE or `wait_timeout` (scaled) has passed, like GCE's wait."""
        with self.cond:
            deadline = self.clock() + self._seconds(self.knobs.wait_timeout)
            while True:
                self._tick()
                op = self._project(project).operations.get((zone, name))
                if op is None:
                    raise not_found(f"projects/{project}/zones/{zone}/operations/{name}")
                now = self.clock()
                if op.finished or now >= deadline:
                    return self._render_op(op)
                self.cond.wait(timeout=max(0.0, min(op.done_at, deadline) - now) + 0.001)

    # ------------------------------------------------------------------ listings
    def instances(self, project: str, zone: str | None = None) -> list[dict[str, Any]]:
        with self.cond:
            self._tick()
            items = sorted(self._project(project).instances.items())
            return [self._render_instance(i) for (z, _), i in items if zone is None or z == zone]
