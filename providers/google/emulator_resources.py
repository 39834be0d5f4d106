"""What the emulator does with an `instances.insert` body: validate it the way Compute Engine does (the
rules are in emulator_rules, with the API's wording), fill in the server-side defaults, build the Instance
resource, and count what it uses against quotas. Errors are `ApiError`s, rendered as the API's JSON body.
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
from providers.google.emulator_errors import HTTP_STATUS_TEXT, ApiError, invalid, last_segment, not_found
from providers.google.emulator_rules import (
    check_accelerators,
    check_disk_type,
    check_fields,
    check_image,
    check_labels,
    check_metadata,
    check_network,
    scheduling,
)

__all__ = ["HTTP_STATUS_TEXT", "ApiError", "Usage", "build_instance", "exceeded_quota", "fingerprint", "invalid",
           "last_segment", "metadata_resource", "not_found", "stockout_error", "validate_labels"]
NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def fingerprint(value: Any) -> str:
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()[:8]
    return base64.b64encode(digest).decode()


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


def stockout_error(project: str, zone: str, machine: str, usage: Usage) -> ApiError:
    """The 503 (or operation error) of a zone without capacity, as GCE words it."""
    attachment = ",".join(f"{k}:{v}" for k, v in sorted(usage.gpus.items()))
    message = (f"The zone 'projects/{project}/zones/{zone}' does not have enough resources available to "
               "fulfill the request.  Try a different zone, or try again later.")
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "resource_availability",
            "domain": "compute.googleapis.com",
            "metadata": {"zone": zone, "vmType": machine, **({"attachment": attachment} if attachment else {})}}
    return ApiError(503, message, "ZONE_RESOURCE_POOL_EXHAUSTED", details=[info])


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


def validate_labels(value: Any) -> dict[str, str]:
    return check_labels(value)


def metadata_resource(items: Any) -> dict[str, Any]:
    pairs = check_metadata(items)
    out: dict[str, Any] = {"kind": "compute#metadata", "fingerprint": fingerprint(pairs)}
    if pairs:
        out["items"] = pairs
    return out


def build_instance(project: str, zone: str, body: Mapping[str, Any], *, instance_id: str, created: str,
                   network_ip: str, nat_ip: Any, withdrawn: Iterable[tuple[str, str]] = (),
                   networks: Iterable[str] = ("default",), images: Mapping[str, str] | None = None
                   ) -> tuple[dict[str, Any], Usage]:
    """The Instance resource for a valid insert body (status PROVISIONING) and its quota usage.

    `nat_ip` is called once per access config that asks for an ephemeral address; `networks` are the
    project's networks, `images` its own images (name -> family)."""
    check_fields(body)
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
    gpus = check_accelerators(zone, body, mtype, withdrawn)
    check_disk_type(params, mtype)
    check_image(project, params, images or {})
    region = region_of(zone)
    base = f"{API_ROOT}/projects/{project}/zones/{zone}"
    size = int(params.get("diskSizeGb") or 10)
    disk_name = str(params.get("diskName") or name)
    out_nics = []
    for i, nic in enumerate(nics):
        network = _network_url(project, nic.get("network"))
        subnetwork = _subnetwork_url(project, region, nic.get("subnetwork"), network)
        check_network(i, network, subnetwork, networks)
        entry: dict[str, Any] = {"kind": "compute#networkInterface", "network": network, "subnetwork": subnetwork,
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
    labels = check_labels(body.get("labels"))
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
        "selfLink": f"{base}/instances/{name}", "scheduling": scheduling(body, bool(gpus)),
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
