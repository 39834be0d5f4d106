"""Offline planning of a `google_compute_instance`: the attributes after apply (defaults filled in, values
only the API knows carried over from the record or UNKNOWN), which changes force a replacement and why,
and where the instance will land when `zones` offers several places.

In place: labels (setLabels), metadata (setMetadata), tags (setTags) and the `zones` list itself while
the instance stays in one of them. Everything else about an instance's hardware and placement is fixed
at creation, so a change replaces it, as Terraform's google provider does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import PlanRequest, PlanResponse
from providers.google.attributes import candidate_zones, desired, gpus_of, run_state
from providers.google.catalog import catalog
from reconciler.values import UNKNOWN

# attribute -> why it cannot change in place
IMMUTABLE = {
    "name": "an instance cannot be renamed",
    "machine_type": "the machine type changes only while the instance is stopped; it is replaced instead",
    "boot_disk": "the boot disk is created with the instance",
    "network_interface": "network interfaces are fixed at creation",
    "guest_accelerator": "GPUs are attached at creation",
    "scheduling": "scheduling is fixed at creation here",
    "description": "the description is fixed at creation",
}
NESTED_COMPUTED = ("network_ip", "nat_ip")


def fill(planned: Any, prior: Any) -> Any:
    """`planned` with each UNKNOWN replaced by the recorded value at the same place, where there is one."""
    if planned is UNKNOWN:
        return UNKNOWN if prior is None else prior
    if isinstance(planned, dict) and isinstance(prior, Mapping):
        return {k: fill(v, prior.get(k)) for k, v in planned.items()}
    if isinstance(planned, list) and isinstance(prior, list) and len(planned) == len(prior):
        return [fill(a, b) for a, b in zip(planned, prior, strict=True)]
    return planned


def differs(planned: Any, prior: Any) -> bool:
    """True when a known planned value contradicts the record (UNKNOWN, or None in the record, match anything:
    the record has no evidence there)."""
    if planned is UNKNOWN or prior is None:
        return False
    if isinstance(planned, dict) and isinstance(prior, Mapping):
        return any(differs(v, prior.get(k)) for k, v in planned.items()) or \
            any(k not in planned and v not in (None, [], {}) for k, v in prior.items())
    if isinstance(planned, list) and isinstance(prior, list):
        return len(planned) != len(prior) or any(differs(a, b) for a, b in zip(planned, prior, strict=True))
    return bool(planned != prior)


def _forget_computed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (UNKNOWN if k in NESTED_COMPUTED and v is not None else _forget_computed(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_forget_computed(v) for v in value]
    return value


def _as_recorded(prior: dict[str, Any]) -> dict[str, Any]:
    """A record in today's shape: states written before `desired_status` existed, or before Spot instances
    were recorded as preemptible (as the API reports them), compare as what the API reports now."""
    out = dict(prior)
    out.setdefault("desired_status", run_state(prior.get("status")))
    sched = out.get("scheduling")
    if isinstance(sched, list) and sched and isinstance(sched[0], Mapping) and \
            sched[0].get("provisioning_model") == "SPOT" and sched[0].get("preemptible") is False:
        out["scheduling"] = [{**sched[0], "preemptible": True}]
    return out


def _keep_default_disk(planned: dict[str, Any], config: Mapping[str, Any], prior: Mapping[str, Any]) -> None:
    """No boot disk type configured: the instance keeps the one it was created with (the default then)."""
    boot = config.get("boot_disk")
    params = boot[0].get("initialize_params") if isinstance(boot, list) and boot and isinstance(boot[0], Mapping) \
        else None
    given = params[0].get("type") if isinstance(params, list) and params and isinstance(params[0], Mapping) else None
    try:
        was = prior["boot_disk"][0]["initialize_params"][0]["type"]
        now = planned["boot_disk"][0]["initialize_params"][0]
    except (KeyError, IndexError, TypeError):
        return
    if given is None and isinstance(was, str) and isinstance(now, dict):
        now["type"] = was


def plan_one(request: PlanRequest, default_zone: str | None) -> PlanResponse:
    zones = candidate_zones(request.config, default_zone)
    record = request.prior.attributes if request.prior is not None and request.prior.id is not None else None
    prior = _as_recorded(dict(record)) if record is not None else None
    prior_zone = prior.get("zone") if prior else None
    notes: list[str] = []
    if prior_zone in zones:
        zone: Any = prior_zone
    elif len(zones) == 1:
        zone = zones[0]
    else:
        zone = UNKNOWN
    placement_unknown = request.config.get("zone") is UNKNOWN or request.config.get("zones") is UNKNOWN
    if not zones and not placement_unknown:
        notes.append('no zone: set zone or zones, or zone in provider "google"')
    elif len(zones) > 1 and zone is UNKNOWN:
        notes.append(f"lands in the first of {', '.join(zones)} with capacity")
    planned = desired(request.config, zone)
    kind = catalog().machine_types.get(str(planned["machine_type"]))
    if kind is not None and kind.deprecated is not None:
        since, successor = kind.deprecated
        notes.append(f"machine_type: {kind.name} is deprecated since {since} (catalogue of {catalog().date}); "
                     f"move to {successor} before it is withdrawn")
    if prior is None:
        return PlanResponse(request.address, planned, (), tuple(notes))
    planned = {**fill(planned, prior), "zone": zone}  # an undecided zone stays undecided
    _keep_default_disk(planned, request.config, prior)
    if record is not None and "desired_status" not in record and prior["desired_status"] == "RUNNING":
        planned.pop("desired_status", None)  # an older record: nothing to compare it with
    if planned.get("desired_status") == "RUNNING" and prior.get("desired_status") != "RUNNING":
        notes.append(f"desired_status: the instance is {prior.get('status')} (stopped outside reconciler: host "
                     "maintenance or preemption); apply starts it again")
    replace: list[str] = []
    if prior_zone is not None and zones and prior_zone not in zones:
        replace.append("zone")
        notes.append(f"zone: the instance is in {prior_zone}, not in {', '.join(zones)}; it is replaced")
    # explicit guest_accelerator blocks naming exactly what the machine type brings are no hardware change
    same_gpus = gpus_of(planned) == gpus_of(prior)
    for name, why in IMMUTABLE.items():
        if name == "guest_accelerator" and same_gpus:
            continue
        changed = differs(planned[name], prior.get(name)) if name in planned else \
            prior.get(name) not in (None, "", [], {})
        if changed:
            replace.append(name)
            notes.append(f"{name}: {why}")
    if replace:
        planned = _forget_computed(planned)
        for key in ("id", "instance_id", "status"):
            planned[key] = UNKNOWN
    else:
        unreported = (prior.get("boot_disk") or [{}])[0].get("initialize_params") or [{}]
        if unreported[0].get("image") is None and planned["boot_disk"][0]["initialize_params"][0].get("image"):
            notes.append("boot_disk: the API does not report the image; the configured one is recorded")
    return PlanResponse(request.address, planned, tuple(replace), tuple(notes))
