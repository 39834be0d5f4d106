"""The one shape of a `google_compute_instance` in plans and state, and the conversions into and out of it:
`desired` (evaluated configuration -> canonical attributes with the API's defaults filled in), `observed`
(an Instance resource as the API returns it -> the same shape) and `insert_body` (canonical attributes ->
the `instances.insert` request body).

Apply and refresh both go through `observed`, so an untouched instance refreshes to exactly what apply
recorded. The API does not report a boot disk's image or type; those are carried over from the record
(None when there is none: an imported or adopted instance). Without a configured disk type the series'
default is used (catalog.json); `desired_status` is RUNNING, observed as TERMINATED or SUSPENDED when the
instance was stopped outside reconciler; a Spot instance is preemptible, as the API reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from providers.base import LABEL_ADDRESS, LABEL_LINEAGE, LABEL_MANAGED_BY
from providers.google.catalog import catalog
from providers.google.prices import bundled_gpus
from reconciler.values import UNKNOWN

OWNERSHIP_KEYS = frozenset({LABEL_MANAGED_BY, LABEL_LINEAGE, LABEL_ADDRESS})
FALLBACK_DISK_TYPE = "pd-balanced"  # for a machine type the catalogue does not know
STOPPED = {"STOPPING": "TERMINATED", "TERMINATED": "TERMINATED", "STOPPED": "TERMINATED",
           "SUSPENDING": "SUSPENDED", "SUSPENDED": "SUSPENDED"}


def default_disk_type(machine_type: Any) -> Any:
    """The boot disk type a series takes when none is given (pd-balanced; hyperdisk-balanced for C3, N4...)."""
    if not isinstance(machine_type, str):
        return UNKNOWN
    series = catalog().series_of(machine_type)
    return series.default_disk if series is not None else FALLBACK_DISK_TYPE


def run_state(status: Any) -> str:
    """`desired_status` as observed: RUNNING unless the instance is stopped (host maintenance, preemption)."""
    return STOPPED.get(str(status), "RUNNING")


def short(value: Any) -> Any:
    """The last path segment of a resource name or URL (`zones/z/machineTypes/e2-small` -> `e2-small`)."""
    if isinstance(value, str):
        return value.rstrip("/").rsplit("/", 1)[-1]
    return value


def _block(config: Mapping[str, Any], name: str) -> Any:
    """The single nested block `name` as a dict ({} when absent), or UNKNOWN."""
    value = config.get(name)
    if value is UNKNOWN or (isinstance(value, list) and value and value[0] is UNKNOWN):
        return UNKNOWN
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return dict(value[0])
    if isinstance(value, Mapping):
        return dict(value)
    return {}


def _each(value: Any, fn: Callable[[Any], Any]) -> Any:
    """`fn` over a list of nested blocks; UNKNOWN (the list is not known yet) stays UNKNOWN."""
    if value is UNKNOWN:
        return UNKNOWN
    return [UNKNOWN if v is UNKNOWN else fn(v) for v in value or []]


def _copy(value: Any, kind: type) -> Any:
    return UNKNOWN if value is UNKNOWN else kind(value or kind())


def candidate_zones(config: Mapping[str, Any], default_zone: str | None) -> list[str]:
    """Where the instance may live, in order: `zone` first, then the `zones` fallbacks."""
    out: list[str] = []
    first = config.get("zone")
    if isinstance(first, str):
        out.append(first)
    fallbacks = config.get("zones")
    for z in fallbacks if isinstance(fallbacks, list) else []:
        if isinstance(z, str) and z not in out:
            out.append(z)
    if not out and default_zone:
        out.append(default_zone)
    return out


def gpus_of(attrs: Mapping[str, Any]) -> dict[str, int]:
    """The GPUs the instance gets: the explicit guest_accelerator blocks, else the machine type's own."""
    explicit: dict[str, int] = {}
    blocks = attrs.get("guest_accelerator")
    for acc in blocks if isinstance(blocks, list) else []:
        if isinstance(acc, Mapping) and isinstance(acc.get("type"), str) and isinstance(acc.get("count"), int):
            explicit[acc["type"]] = explicit.get(acc["type"], 0) + acc["count"]
    if explicit:
        return explicit
    machine = attrs.get("machine_type")
    return bundled_gpus(machine) if isinstance(machine, str) else {}


def _scheduling(given: Any, has_gpus: Any) -> Any:
    if given is UNKNOWN:
        return UNKNOWN
    preemptible = given.get("preemptible") or False
    model = given.get("provisioning_model") or ("SPOT" if preemptible else "STANDARD")
    if model == "SPOT":
        preemptible = True  # the API reports a Spot instance as preemptible
    spot: Any = UNKNOWN if UNKNOWN in (preemptible, model) else (preemptible is True or model == "SPOT")
    ohm = given.get("on_host_maintenance")
    if not ohm:
        ohm = UNKNOWN if UNKNOWN in (spot, has_gpus) else ("TERMINATE" if spot or has_gpus else "MIGRATE")
    restart = given.get("automatic_restart")
    if restart is None:
        restart = UNKNOWN if spot is UNKNOWN else not spot
    return {"on_host_maintenance": ohm, "automatic_restart": restart, "preemptible": preemptible,
            "provisioning_model": model}


def _boot_disk(boot: Any, machine_type: Any) -> Any:
    if boot is UNKNOWN:
        return UNKNOWN
    params = _block(boot, "initialize_params")
    init = UNKNOWN if params is UNKNOWN else [{"image": params.get("image"), "size": params.get("size") or UNKNOWN,
                                               "type": params.get("type") or default_disk_type(machine_type)}]
    return [{"auto_delete": boot.get("auto_delete", True), "initialize_params": init}]


def _nic(nic: Mapping[str, Any]) -> dict[str, Any]:
    return {"network": short(nic.get("network") or "default"), "subnetwork": short(nic.get("subnetwork")) or UNKNOWN,
            "network_ip": nic.get("network_ip") or UNKNOWN,
            "access_config": _each(nic.get("access_config"), lambda ac: {
                "nat_ip": ac.get("nat_ip") or UNKNOWN, "network_tier": ac.get("network_tier") or "PREMIUM"})}


def desired(config: Mapping[str, Any], zone: Any) -> dict[str, Any]:
    """Canonical attributes for a configuration; values only the API can tell are UNKNOWN."""
    accelerators = _each(config.get("guest_accelerator"), lambda a: {"type": short(a.get("type")),
                                                                      "count": a.get("count")})
    if accelerators is not UNKNOWN:
        accelerators.sort(key=lambda a: str(a["type"]))
    machine_type = short(config.get("machine_type"))
    out: dict[str, Any] = {
        "name": config.get("name"),
        "machine_type": machine_type,
        "zone": zone,
        "boot_disk": _boot_disk(_block(config, "boot_disk"), machine_type),
        "network_interface": _each(config.get("network_interface"), _nic),
        "guest_accelerator": accelerators,
        "labels": _copy(config.get("labels"), dict),
        "metadata": _copy(config.get("metadata"), dict),
        "tags": _copy(config.get("tags"), list),
        "desired_status": config.get("desired_status") or "RUNNING",
        "id": UNKNOWN, "instance_id": UNKNOWN, "status": UNKNOWN,
    }
    gpus_known = accelerators is not UNKNOWN and (accelerators or out["machine_type"] is not UNKNOWN)
    out["scheduling"] = [_scheduling(_block(config, "scheduling"), bool(gpus_of(out)) if gpus_known else UNKNOWN)]
    if config.get("zones"):
        out["zones"] = _copy(config["zones"], list)
    if config.get("description"):
        out["description"] = config["description"]
    return out


def instance_id(project: str, zone: str, name: str) -> str:
    return f"projects/{project}/zones/{zone}/instances/{name}"


def parse_id(value: str) -> tuple[str | None, str, str]:
    """(project or None, zone, name) from `projects/p/zones/z/instances/n`, a URL of it, or `zone/name`."""
    parts = value.strip("/").split("/")
    if "zones" in parts and "instances" in parts:
        zone, name = parts[parts.index("zones") + 1], parts[parts.index("instances") + 1]
        project = parts[parts.index("projects") + 1] if "projects" in parts else None
        return project, zone, name
    if len(parts) == 2:
        return None, parts[0], parts[1]
    raise ValueError(f"not an instance id: {value!r} (expected zone/name or projects/P/zones/Z/instances/N)")


def observed(project: str, instance: Mapping[str, Any], carried: Mapping[str, Any] | None) -> dict[str, Any]:
    """Canonical attributes of an Instance resource (JSON field names), keeping what the API cannot report
    (boot disk image and type, the `zones` fallbacks) from `carried`, the recorded attributes."""
    carried = carried or {}
    old_boot = (carried.get("boot_disk") or [{}])[0]
    old_params = (old_boot.get("initialize_params") or [{}])[0]
    disks = list(instance.get("disks") or [])
    boot = next((d for d in disks if d.get("boot")), disks[0] if disks else {})
    size = boot.get("diskSizeGb")
    zone = short(instance.get("zone", ""))
    nics = []
    for nic in instance.get("networkInterfaces") or []:
        nics.append({"network": short(nic.get("network")), "subnetwork": short(nic.get("subnetwork")),
                     "network_ip": nic.get("networkIP"),
                     "access_config": [{"nat_ip": ac.get("natIP"), "network_tier": ac.get("networkTier", "PREMIUM")}
                                       for ac in nic.get("accessConfigs") or []]})
    sched = instance.get("scheduling") or {}
    labels = {k: v for k, v in (instance.get("labels") or {}).items() if k not in OWNERSHIP_KEYS}
    items = (instance.get("metadata") or {}).get("items") or []
    machine = short(instance.get("machineType"))
    gpus = sorted(({"type": short(a.get("acceleratorType")), "count": int(a.get("acceleratorCount", 0))}
                   for a in instance.get("guestAccelerators") or []), key=lambda a: a["type"])
    said = carried.get("guest_accelerator")
    if isinstance(said, list) and gpus_of({"guest_accelerator": said, "machine_type": machine}) == \
            gpus_of({"guest_accelerator": gpus, "machine_type": machine}):
        gpus = said  # the same GPUs, in the form the configuration gave them (a G2 type's own L4: [] or listed)
    out: dict[str, Any] = {
        "name": instance.get("name"),
        "machine_type": machine,
        "zone": zone,
        "boot_disk": [{"auto_delete": bool(boot.get("autoDelete", True)),
                       "initialize_params": [{"image": old_params.get("image"),
                                              "size": int(size) if size is not None else None,
                                              "type": old_params.get("type")}]}],
        "network_interface": nics,
        "guest_accelerator": gpus,
        "scheduling": [{"on_host_maintenance": sched.get("onHostMaintenance", "MIGRATE"),
                        "automatic_restart": bool(sched.get("automaticRestart", True)),
                        "preemptible": bool(sched.get("preemptible", False)),
                        "provisioning_model": sched.get("provisioningModel", "STANDARD")}],
        "labels": labels,
        "metadata": {str(i.get("key")): str(i.get("value", "")) for i in items},
        "tags": list((instance.get("tags") or {}).get("items") or []),
        "desired_status": run_state(instance.get("status")),
        "id": instance_id(project, zone, str(instance.get("name"))),
        "instance_id": str(instance.get("id", "")),
        "status": instance.get("status"),
    }
    if carried.get("zones"):
        out["zones"] = list(carried["zones"])
    if instance.get("description"):
        out["description"] = instance["description"]
    return out


def image_path(image: str, project: str) -> str:
    """Terraform's image forms -> a source image the API accepts. `P/F` names family F of project P."""
    if image.startswith(("https://", "projects/")):
        return image
    if image.startswith("global/"):
        return f"projects/{project}/{image}"
    if image.startswith("family/"):
        return f"projects/{project}/global/images/{image}"
    if "/" in image:
        owner, name = image.split("/", 1)
        return f"projects/{owner}/global/images/family/{name}"
    return f"projects/{project}/global/images/family/{image}"


def _network_path(value: str, project: str) -> str:
    return value if value.startswith(("https://", "projects/", "global/")) else f"global/networks/{value}"


def insert_body(attrs: Mapping[str, Any], project: str, zone: str, labels: Mapping[str, str],
                source_image: str | None = None) -> dict[str, Any]:
    """The Instance resource to insert (JSON field names) for canonical, fully known attributes;
    `source_image` is the configured image resolved by the API (images.resolve)."""
    boot = attrs["boot_disk"][0]
    params = boot["initialize_params"][0]
    disk_type = params.get("type") or default_disk_type(attrs["machine_type"])
    init: dict[str, Any] = {"diskType": f"zones/{zone}/diskTypes/{disk_type}"}
    if source_image:
        init["sourceImage"] = source_image
    elif params.get("image"):
        init["sourceImage"] = image_path(str(params["image"]), project)
    if isinstance(params.get("size"), int):
        init["diskSizeGb"] = str(params["size"])
    region = zone.rsplit("-", 1)[0]
    nics = []
    for nic in attrs.get("network_interface") or []:
        entry: dict[str, Any] = {"network": _network_path(str(nic.get("network") or "default"), project)}
        if isinstance(nic.get("subnetwork"), str):
            entry["subnetwork"] = f"regions/{region}/subnetworks/{nic['subnetwork']}"
        if isinstance(nic.get("network_ip"), str):
            entry["networkIP"] = nic["network_ip"]
        configs = []
        for ac in nic.get("access_config") or []:
            conf = {"name": "External NAT", "type": "ONE_TO_ONE_NAT",
                    "networkTier": ac.get("network_tier") or "PREMIUM"}
            if isinstance(ac.get("nat_ip"), str):
                conf["natIP"] = ac["nat_ip"]
            configs.append(conf)
        if configs:
            entry["accessConfigs"] = configs
        nics.append(entry)
    sched = attrs["scheduling"][0]
    body: dict[str, Any] = {
        "name": attrs["name"],
        "machineType": f"zones/{zone}/machineTypes/{attrs['machine_type']}",
        "disks": [{"boot": True, "autoDelete": bool(boot.get("auto_delete", True)), "initializeParams": init}],
        "networkInterfaces": nics,
        "scheduling": {"onHostMaintenance": sched["on_host_maintenance"],
                       "automaticRestart": sched["automatic_restart"], "preemptible": sched["preemptible"],
                       "provisioningModel": sched["provisioning_model"]},
        "labels": {**dict(attrs.get("labels") or {}), **dict(labels)},
        "metadata": {"items": metadata_items(attrs.get("metadata") or {})},
        "tags": {"items": list(attrs.get("tags") or [])},
    }
    if attrs.get("guest_accelerator"):
        body["guestAccelerators"] = [{"acceleratorType": f"zones/{zone}/acceleratorTypes/{a['type']}",
                                      "acceleratorCount": a["count"]} for a in attrs["guest_accelerator"]]
    if attrs.get("description"):
        body["description"] = attrs["description"]
    return body


def metadata_items(metadata: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in sorted(metadata.items())]


def accelerator_types(attrs: Mapping[str, Any]) -> Sequence[str]:
    return sorted(gpus_of(attrs))
