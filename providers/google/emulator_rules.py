"""What the Compute Engine emulator refuses in an `instances.insert` body, with the API's 400s, from the
emulator's own catalogue (emulator_catalog, written from the public reference, independent of the
provider's tables so each checks the other): fields the Instance resource does not have, GPUs that do
not go with the machine type (families, counts, vCPUs), boot disk types a family does not take, images,
networks and subnetworks that do not exist, label and metadata rules, and Spot/preemptible settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from providers.google.emulator_catalog import (
    ACCELERATOR_TYPES,
    DISK_TYPES,
    FAMILY_DISKS,
    N1_GPU_LIMITS,
    PUBLIC_IMAGES,
    MachineType,
)
from providers.google.emulator_errors import ApiError, invalid, last_segment

LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
METADATA_KEY_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
MAX_LABELS = 64

# the writable fields of the v1 resources (compute.v1.json, revision 20261106); output-only ones are ignored
FIELDS: dict[str, frozenset[str]] = {
    "resource": frozenset({
        "advancedMachineFeatures", "canIpForward", "confidentialInstanceConfig", "cpuPlatform", "creationTimestamp",
        "deletionProtection", "description", "disks", "displayDevice", "fingerprint", "guestAccelerators",
        "hostname", "id", "instanceEncryptionKey", "keyRevocationActionType", "kind", "labelFingerprint", "labels",
        "lastStartTimestamp", "lastStopTimestamp", "lastSuspendedTimestamp", "localSsdEncryptionMode",
        "machineType", "metadata", "minCpuPlatform", "name", "networkInterfaces", "networkPerformanceConfig",
        "params", "privateIpv6GoogleAccess", "reservationAffinity", "resourcePolicies", "resourceStatus",
        "satisfiesPzi", "satisfiesPzs", "scheduling", "selfLink", "serviceAccounts", "shieldedInstanceConfig",
        "shieldedInstanceIntegrityPolicy", "sourceMachineImage", "sourceMachineImageEncryptionKey",
        "startRestricted", "status", "statusMessage", "tags", "workloadIdentityConfig", "zone"}),
    "disks": frozenset({
        "architecture", "autoDelete", "boot", "deviceName", "diskEncryptionKey", "diskSizeGb", "forceAttach",
        "guestOsFeatures", "index", "initializeParams", "interface", "kind", "licenses", "mode", "savedState",
        "shieldedInstanceInitialState", "source", "type"}),
    "initializeParams": frozenset({
        "architecture", "description", "diskName", "diskSizeGb", "diskType", "enableConfidentialCompute", "labels",
        "licenses", "onUpdateAction", "provisionedIops", "provisionedThroughput", "replicaZones",
        "resourceManagerTags", "resourcePolicies", "sourceImage", "sourceImageEncryptionKey", "sourceSnapshot",
        "sourceSnapshotEncryptionKey", "storagePool"}),
    "networkInterfaces": frozenset({
        "accessConfigs", "aliasIpRanges", "aliasIpv6Ranges", "enableVpcScopedDns", "fingerprint", "igmpQuery",
        "internalIpv6PrefixLength", "ipv6AccessConfigs", "ipv6AccessType", "ipv6Address", "kind", "name", "network",
        "networkAttachment", "networkIP", "nicType", "parentNicName", "queueCount", "serviceClassId", "stackType",
        "subnetwork", "vlan"}),
    "accessConfigs": frozenset({
        "externalIpv6", "externalIpv6PrefixLength", "ipCollection", "kind", "name", "natIP", "networkTier",
        "publicPtrDomainName", "securityPolicy", "setPublicPtr", "type"}),
    "scheduling": frozenset({
        "automaticRestart", "availabilityDomain", "exposeHostTopology", "gracefulShutdown",
        "hostErrorTimeoutSeconds", "instanceTerminationAction", "localSsdRecoveryTimeout", "locationHint",
        "maxRunDuration", "minNodeCpus", "nodeAffinities", "onHostMaintenance", "onInstanceStopAction",
        "preemptible", "preemptionNoticeDuration", "protectionTier", "provisioningModel", "skipGuestOsShutdown",
        "terminationTime"}),
    "guestAccelerators": frozenset({"acceleratorCount", "acceleratorType"}),
    "metadata": frozenset({"fingerprint", "items", "kind"}),
    "tags": frozenset({"fingerprint", "items"}),
}


def unknown_field(path: str, name: str) -> ApiError:
    message = f"Invalid JSON payload received. Unknown name \"{name}\" at '{path}': Cannot find field."
    return ApiError(400, message, "invalid", details=[{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": f"{path}.{name}".replace("resource.", "", 1) if path != "resource" else name,
                             "description": message}]}])


def check_fields(body: Mapping[str, Any]) -> None:
    """400 for a field the Instance resource (or its nested messages) does not have."""
    def walk(value: Any, kind: str, path: str) -> None:
        if not isinstance(value, Mapping):
            return
        for name, inner in value.items():
            if name not in FIELDS[kind]:
                raise unknown_field(path, name)
            if name in FIELDS and isinstance(inner, list):
                for i, item in enumerate(inner):
                    walk(item, name, f"{path}.{name}[{i}]")
            elif name in FIELDS:
                walk(inner, name, f"{path}.{name}")

    walk(body, "resource", "resource")


def _not_compatible(accelerator: str, machine: str) -> ApiError:
    return ApiError(400, f"[{accelerator}, {machine}] features are not compatible for creating instance.", "badRequest")


def _count_not_allowed(i: int, count: int, machine: str, allowed: list[int]) -> ApiError:
    return invalid(f"resource.guestAccelerators[{i}].acceleratorCount", count,
                   f'Accelerator count "{count}" is not allowed for machine type "{machine}"; allowed values: '
                   f"[{', '.join(map(str, allowed))}].")


def check_accelerators(zone: str, body: Mapping[str, Any], mtype: MachineType,
                       withdrawn: Iterable[tuple[str, str]]) -> dict[str, int]:
    """The GPUs the instance gets (a G2/A2/A3 type's own when none are listed); 400 when they do not fit."""
    wanted: list[tuple[int, str, int]] = []
    for i, acc in enumerate(body.get("guestAccelerators") or []):
        name = last_segment(str(acc.get("acceleratorType", "")), "acceleratorTypes")
        count = int(acc.get("acceleratorCount", 0))
        kind = ACCELERATOR_TYPES.get(name)
        if kind is None or zone not in kind.zones or (zone, name) in withdrawn:
            raise invalid(f"resource.guestAccelerators[{i}].acceleratorType", acc.get("acceleratorType"),
                          f"Accelerator type '{name}' does not exist in zone '{zone}'.")
        if not 1 <= count <= kind.max_per_instance:
            raise invalid(f"resource.guestAccelerators[{i}].acceleratorCount", count,
                          f"Accelerator count must be between 1 and {kind.max_per_instance}.")
        wanted.append((i, name, count))
    if mtype.accelerator is not None:
        for i, name, count in wanted:
            if name != mtype.accelerator:
                raise _not_compatible(name, mtype.name)
            if count != mtype.accelerator_count:
                raise _count_not_allowed(i, count, mtype.name, [mtype.accelerator_count])
        return {mtype.accelerator: mtype.accelerator_count}
    out: dict[str, int] = {}
    for i, name, count in wanted:
        counts = sorted(c for (gpu, c) in N1_GPU_LIMITS if gpu == name)
        if mtype.family != "n1" or mtype.shared_cpu or not counts:
            raise _not_compatible(name, mtype.name)
        allowed = [c for c in counts if mtype.cpus <= N1_GPU_LIMITS[(name, c)]]
        if count not in allowed:
            raise _count_not_allowed(i, count, mtype.name, allowed)
        out[name] = out.get(name, 0) + count
    if len(out) > 1:
        raise ApiError(400, "Only one type of accelerator may be attached to an instance.", "badRequest")
    return out


def check_disk_type(params: Mapping[str, Any], mtype: MachineType) -> str:
    """The boot disk's type (the API's default, pd-standard, when none is given); 400 for one the machine
    family does not take (C3, N4, C4, G2 and A3 refuse pd-standard)."""
    given = params.get("diskType")
    name = last_segment(str(given), "diskTypes") if given else "pd-standard"
    field = "resource.disks[0].initializeParams.diskType"
    if name not in DISK_TYPES:
        raise invalid(field, given, "The referenced diskType resource cannot be found.")
    if name not in FAMILY_DISKS.get(mtype.family, ()):
        raise invalid(field, given or name, f"{name} disk type cannot be used by {mtype.name} machine type.")
    return name


_IMAGE_RE = re.compile(r"(?:^|/)projects/([^/]+)/global/images/(family/)?([^/]+)$")
_GLOBAL_IMAGE_RE = re.compile(r"^global/images/(family/)?([^/]+)$")


def find_image(project: str, source: str, own_images: Mapping[str, str]) -> tuple[str, str] | None:
    """(project, image name) a sourceImage resolves to, or None when there is no such image or family."""
    m = _IMAGE_RE.search(source)
    if m is not None:
        owner, family, name = m.group(1), bool(m.group(2)), m.group(3)
    else:
        g = _GLOBAL_IMAGE_RE.match(source)
        if g is None:
            return None
        owner, family, name = project, bool(g.group(1)), g.group(2)
    images = PUBLIC_IMAGES.get(owner) or (own_images if owner == project else {})
    if family:
        newest = [image for image, fam in images.items() if fam == name]
        return (owner, newest[-1]) if newest else None
    return (owner, name) if name in images else None


def check_image(project: str, params: Mapping[str, Any], own_images: Mapping[str, str]) -> None:
    source = params.get("sourceImage")
    if source and find_image(project, str(source), own_images) is None:
        raise invalid("resource.disks[0].initializeParams.sourceImage", source,
                      "The referenced image resource cannot be found.")


def check_network(i: int, network_url: str, subnetwork_url: str, networks: Iterable[str]) -> None:
    """Every network the emulator knows is auto mode: a subnetwork of its name in every region."""
    known = set(networks)
    network = network_url.rsplit("/", 1)[-1]
    if network not in known:
        raise invalid(f"resource.networkInterfaces[{i}].network", network_url,
                      "The referenced network resource cannot be found.")
    if subnetwork_url.rsplit("/", 1)[-1] not in known:
        raise invalid(f"resource.networkInterfaces[{i}].subnetwork", subnetwork_url,
                      "The referenced subnetwork resource cannot be found.")


def check_labels(value: Any, field: str = "resource.labels") -> dict[str, str]:
    labels = dict(value or {})
    if len(labels) > MAX_LABELS:
        raise invalid(field, "", f"Resource can have at most {MAX_LABELS} labels.")
    for k, v in labels.items():
        if not LABEL_KEY_RE.match(k) or not LABEL_VALUE_RE.match(str(v)):
            raise invalid(f"{field}.{k}", v, "Label keys and values must match [a-z0-9_-] and start "
                                             "with a letter (keys).")
    return {str(k): str(v) for k, v in labels.items()}


def check_metadata(items: Any, field: str = "resource.metadata") -> list[dict[str, str]]:
    pairs: list[dict[str, str]] = []
    seen: set[str] = set()
    total = 0
    for i, item in enumerate(items or []):
        key, value = str(item.get("key", "")), str(item.get("value", ""))
        if not METADATA_KEY_RE.match(key):
            raise invalid(f"{field}.items[{i}].key", key, "Must be a match of regex '[a-zA-Z0-9-_]{1,128}'")
        if key in seen:
            raise invalid(f"{field}.items[{i}].key", key, f"Duplicate metadata key '{key}'.")
        if len(value.encode()) > 256 * 1024:
            raise invalid(f"{field}.items[{i}].value", "", "Metadata values are limited to 262144 bytes.")
        seen.add(key)
        total += len(key.encode()) + len(value.encode())
        pairs.append({"key": key, "value": value})
    if total > 512 * 1024:
        raise invalid(field, "", "The total size of all metadata keys and values must be less than 512 KB.")
    return pairs


def scheduling(body: Mapping[str, Any], has_gpus: bool) -> dict[str, Any]:
    """The instance's scheduling as the API reports it: a Spot instance is preemptible."""
    given = dict(body.get("scheduling") or {})
    model = given.get("provisioningModel")
    preemptible = bool(given.get("preemptible"))
    if preemptible and model == "STANDARD":
        raise invalid("resource.scheduling.provisioningModel", model,
                      "For preemptible, only allowed provisioning_model value is SPOT.")
    spot = model == "SPOT" or preemptible
    out = {"onHostMaintenance": given.get("onHostMaintenance", "TERMINATE" if (spot or has_gpus) else "MIGRATE"),
           "automaticRestart": given.get("automaticRestart", not spot), "preemptible": spot,
           "provisioningModel": model or ("SPOT" if preemptible else "STANDARD")}
    if spot:
        out["instanceTerminationAction"] = given.get("instanceTerminationAction", "STOP")
    if has_gpus and out["onHostMaintenance"] != "TERMINATE":
        raise ApiError(400, "Instances with guest accelerators do not support live migration.", "badRequest")
    if spot and out["automaticRestart"]:
        raise invalid("resource.scheduling.preemptible", "true",
                      "Scheduling must have preemptible be false when AutomaticRestart is true.")
    if spot and out["onHostMaintenance"] != "TERMINATE":
        raise invalid("resource.scheduling.onHostMaintenance", out["onHostMaintenance"],
                      "Preemptible and Spot instances must terminate on host maintenance.")
    return out

