"""What the emulator does with an `instances.insert` body: validate it the way Compute Engine does (400s
with the API's wording), fill in the server-side defaults, build the Instance resource, and count what
it uses against quotas. Errors are `ApiError`s, rendered as the API's JSON error body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from providers.google.emulator_catalog import (
    ACCELERATOR_TYPES,
    API_ROOT,
    MACHINE_TYPES,
    region_of,
    zone_offers_machine_type,
)

NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")

HTTP_STATUS_TEXT = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
                    412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class ApiError(Exception):
    """An error answer of the API: HTTP status plus the JSON `error` object."""

    def __init__(self, status: int, message: str, reason: str, *, domain: str = "global",
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.domain = domain
        self.details = details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message,
                                 "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}]}
        if self.status in HTTP_STATUS_TEXT:
            error["status"] = HTTP_STATUS_TEXT[self.status]
        if self.details:
            error["details"] = self.details
        return {"error": error}


def not_found(path: str) -> ApiError:
    return ApiError(404, f"The resource '{path}' was not found", "notFound")


def invalid(field: str, value: Any, why: str) -> ApiError:
    return ApiError(400, f"Invalid value for field '{field}': '{value}'. {why}", "invalid")


def fingerprint(value: Any) -> str:
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()[:8]
    return base64.b64encode(digest).decode()


def last_segment(url: str, collection: str) -> str:
    """`zones/z/machineTypes/n2-standard-2`, a full URL or a bare name -> the name after `collection/`."""
    marker = f"{collection}/"
    return url.rsplit(marker, 1)[1] if marker in url else url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Usage:
    """What one instance counts against quotas."""

    region: str
    cpus: int
    gpus: Mapping[str, int]  # accelerator type -> count

    def metrics(self) -> dict[tuple[str, str | None], float]:
        """(metric, region or None for global) -> amount."""
        out: dict[tuple[str, str | None], float] = {
            ("CPUS", self.region): self.cpus, ("CPUS_ALL_REGIONS", None): self.cpus, ("INSTANCES", self.region): 1}
        total = 0
        for name, count in self.gpus.items():
            metric = ACCELERATOR_TYPES[name].quota_metric
            out[(metric, self.region)] = out.get((metric, self.region), 0) + count
            total += count
        if total:
            out[("GPUS_ALL_REGIONS", None)] = total
        return out


def quota_error(metric: str, region: str | None, limit: float) -> dict[str, Any]:
    """The operation-style error entry for an exceeded quota."""
    where = f"in region {region}" if region else "globally"
    message = f"Quota '{metric}' exceeded.  Limit: {limit:.1f} {where}."
    info: dict[str, Any] = {"metricName": f"compute.googleapis.com/{metric.lower()}",
                            "limitName": f"{metric.replace('_', '-')}-per-project{'-region' if region else ''}",
                            "limit": limit}
    if region:
        info["dimensions"] = {"region": region}
    return {"code": "QUOTA_EXCEEDED", "message": message, "errorDetails": [{"quotaInfo": info}]}


def exceeded_quota(knob_quotas: Mapping[str, float], in_use: Iterable[Usage], new: Usage) -> dict[str, Any] | None:
    """The first quota the new instance would exceed, as an operation error entry, or None."""
    totals: dict[tuple[str, str | None], float] = {}
    for usage in in_use:
        for key, amount in usage.metrics().items():
            totals[key] = totals.get(key, 0) + amount
    for (metric, region), amount in sorted(new.metrics().items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        limit = knob_quotas.get(metric)
        if limit is not None and totals.get((metric, region), 0) + amount > limit:
            return quota_error(metric, region, limit)
    return None


def _network_url(project: str, value: str | None) -> str:
    value = value or "default"
    if value.startswith("https://"):
        return value
    if value.startswith("projects/"):
        return f"{API_ROOT}/{value}"
    return f"{API_ROOT}/projects/{project}/global/networks/{last_segment(value, 'networks')}"


def _subnetwork_url(project: str, region: str, value: str | None, network: str) -> str:
    if value:
        if value.startswith("https://"):
            return value
        if value.startswith("projects/"):
            return f"{API_ROOT}/{value}"
        return f"{API_ROOT}/projects/{project}/regions/{region}/subnetworks/{last_segment(value, 'subnetworks')}"
    return f"{API_ROOT}/projects/{project}/regions/{region}/subnetworks/{network.rsplit('/', 1)[-1]}"


def _accelerators(zone: str, body: Mapping[str, Any], machine: str, withdrawn: Iterable[tuple[str, str]]
                  ) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for i, acc in enumerate(body.get("guestAccelerators") or []):
        name = last_segment(str(acc.get("acceleratorType", "")), "acceleratorTypes")
        count = int(acc.get("acceleratorCount", 0))
        field = f"resource.guestAccelerators[{i}].acceleratorType"
        kind = ACCELERATOR_TYPES.get(name)
        if kind is None or zone not in kind.zones or (zone, name) in withdrawn:
            raise invalid(field, acc.get("acceleratorType"),
                          f"Accelerator type '{name}' does not exist in zone '{zone}'.")
        if not 1 <= count <= kind.max_per_instance:
            raise invalid(f"resource.guestAccelerators[{i}].acceleratorCount", count,
                          f"Accelerator count must be between 1 and {kind.max_per_instance}.")
        wanted[name] = wanted.get(name, 0) + count
    mtype = MACHINE_TYPES[machine]
    if mtype.accelerator is not None:
        bundled = {mtype.accelerator: mtype.accelerator_count}
        if wanted and wanted != bundled:
            raise invalid("resource.guestAccelerators", json.dumps(body.get("guestAccelerators")),
                          f"Machine type {machine} comes with {mtype.accelerator_count} x {mtype.accelerator} "
                          "and accepts no other accelerators.")
        return bundled
    return wanted


def _scheduling(body: Mapping[str, Any], has_gpus: bool) -> dict[str, Any]:
    given = dict(body.get("scheduling") or {})
    spot = given.get("provisioningModel") == "SPOT" or bool(given.get("preemptible"))
    default_ohm = "TERMINATE" if (spot or has_gpus) else "MIGRATE"
    out = {"onHostMaintenance": given.get("onHostMaintenance", default_ohm),
           "automaticRestart": given.get("automaticRestart", not spot),
           "preemptible": bool(given.get("preemptible", False)),
           "provisioningModel": given.get("provisioningModel", "SPOT" if given.get("preemptible") else "STANDARD")}
    if has_gpus and out["onHostMaintenance"] != "TERMINATE":
        raise ApiError(400, "Instances with guest accelerators do not support live migration.", "badRequest")
    if spot and out["automaticRestart"]:
        raise invalid("resource.scheduling.automaticRestart", "true",
                      "Preemptible and Spot instances cannot be automatically restarted.")
    return out


def validate_labels(value: Any) -> dict[str, str]:
    labels = dict(value or {})
    for k, v in labels.items():
        if not LABEL_KEY_RE.match(k) or not LABEL_VALUE_RE.match(str(v)):
            raise invalid(f"resource.labels.{k}", v, "Label keys and values must match [a-z0-9_-] and start "
                                                    "with a letter (keys).")
    return {str(k): str(v) for k, v in labels.items()}


def metadata_resource(items: Any) -> dict[str, Any]:
    pairs = [{"key": str(i["key"]), "value": str(i.get("value", ""))} for i in (items or [])]
    out: dict[str, Any] = {"kind": "compute#metadata", "fingerprint": fingerprint(pairs)}
    if pairs:
        out["items"] = pairs
    return out


def build_instance(project: str, zone: str, body: Mapping[str, Any], *, instance_id: str, created: str,
                   network_ip: str, nat_ip: Any, withdrawn: Iterable[tuple[str, str]] = ()
                   ) -> tuple[dict[str, Any], Usage]:
    """The Instance resource for a valid insert body (status PROVISIONING) and its quota usage.

    `nat_ip` is called once per access config that asks for an ephemeral address."""
    name = str(body.get("name") or "")
    if not NAME_RE.match(name):
        raise invalid("resource.name", name, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
    machine = last_segment(str(body.get("machineType") or ""), "machineTypes")
    mtype = MACHINE_TYPES.get(machine)
    if mtype is None or not zone_offers_machine_type(zone, mtype):
        raise invalid("resource.machineType", body.get("machineType"),
                      f"Machine type with name '{machine}' does not exist in zone '{zone}'.")
    disks = list(body.get("disks") or [])
    boot = next((d for d in disks if d.get("boot")), disks[0] if disks else None)
    params = (boot or {}).get("initializeParams") or {}
    if boot is None or not (params.get("sourceImage") or boot.get("source")):
        raise invalid("resource.disks", "", "Boot disk must be specified with a source image or an existing disk.")
    nics = list(body.get("networkInterfaces") or [])
    if not nics:
        raise invalid("resource.networkInterfaces", "", "At least one network interface is required.")
    gpus = _accelerators(zone, body, machine, withdrawn)
    region = region_of(zone)
    base = f"{API_ROOT}/projects/{project}/zones/{zone}"
    size = int(params.get("diskSizeGb") or 10)
    disk_name = str(params.get("diskName") or name)
    out_nics = []
    for i, nic in enumerate(nics):
        network = _network_url(project, nic.get("network"))
        entry: dict[str, Any] = {"kind": "compute#networkInterface", "network": network,
                                 "subnetwork": _subnetwork_url(project, region, nic.get("subnetwork"), network),
                                 "networkIP": network_ip if i == 0 else f"10.{200 + i}.0.2", "name": f"nic{i}",
                                 "stackType": "IPV4_ONLY"}
        configs = []
        for ac in nic.get("accessConfigs") or []:
            configs.append({"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT",
                            "name": ac.get("name", "External NAT"), "natIP": ac.get("natIP") or nat_ip(),
                            "networkTier": ac.get("networkTier", "PREMIUM")})
        if configs:
            entry["accessConfigs"] = configs
        entry["fingerprint"] = fingerprint(entry)
        out_nics.append(entry)
    labels = validate_labels(body.get("labels"))
    tags = [str(t) for t in ((body.get("tags") or {}).get("items") or [])]
    instance: dict[str, Any] = {
        "kind": "compute#instance", "id": instance_id, "creationTimestamp": created, "name": name,
        "description": str(body.get("description") or ""),
        "tags": {"items": tags, "fingerprint": fingerprint(tags)} if tags else {"fingerprint": fingerprint(tags)},
        "machineType": f"{base}/machineTypes/{machine}", "status": "PROVISIONING", "zone": base,
        "networkInterfaces": out_nics,
        "disks": [{"kind": "compute#attachedDisk", "type": "PERSISTENT", "mode": "READ_WRITE",
                   "source": f"{base}/disks/{disk_name}", "deviceName": str(boot.get("deviceName") or disk_name),
                   "index": 0, "boot": True, "autoDelete": bool(boot.get("autoDelete", True)),
                   "interface": "SCSI", "diskSizeGb": str(size)}],
        "metadata": metadata_resource((body.get("metadata") or {}).get("items")),
        "selfLink": f"{base}/instances/{name}", "scheduling": _scheduling(body, bool(gpus)),
        "cpuPlatform": "Intel Cascade Lake", "labelFingerprint": fingerprint(labels),
        "startRestricted": False, "deletionProtection": bool(body.get("deletionProtection", False)),
        "fingerprint": fingerprint([name, instance_id]),
    }
    if labels:
        instance["labels"] = labels
    if gpus:
        instance["guestAccelerators"] = [{"acceleratorType": f"{base}/acceleratorTypes/{n}", "acceleratorCount": c}
                                         for n, c in sorted(gpus.items())]
    return instance, Usage(region, mtype.cpus, gpus)
