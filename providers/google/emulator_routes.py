"""The REST routes of the Compute Engine emulator: one small handler per API method (path template, HTTP
method, API method id), answering with the v1 JSON resources: instances, zone operations, zones, machine
types and accelerator types, including the aggregated lists with their per-zone scopes and warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from providers.google.emulator_catalog import (
    ACCELERATOR_TYPES,
    API_ROOT,
    DISK_TYPES,
    MACHINE_TYPES,
    AcceleratorType,
    accelerator_type_resource,
    accelerators_in,
    all_zones,
    disk_type_resource,
    image_resource,
    machine_type_resource,
    zone_offers_machine_type,
    zone_resource,
)
from providers.google.emulator_errors import not_found
from providers.google.emulator_filter import page as page_of
from providers.google.emulator_rules import find_image

if TYPE_CHECKING:
    from providers.google.emulator import Emulator

PREFIX = "/compute/v1/"
Query = Mapping[str, str]
Handler = Callable[["Emulator", dict[str, str], Query, Any], tuple[int, Any]]
_ROUTES: list[tuple[str, re.Pattern[str], str, str, Handler]] = []


def _route(method: str, template: str, api: str) -> Callable[[Handler], Handler]:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")

    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, pattern, PREFIX + template, api, fn))
        return fn

    return register


def find_route(method: str, path: str) -> tuple[dict[str, str], str, str, Handler] | None:
    for route_method, pattern, template, api, fn in _ROUTES:
        m = pattern.match(path)
        if route_method == method and m is not None:
            return m.groupdict(), template, api, fn
    return None


def _list(kind: str, self_link: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "id": self_link.split("/v1/", 1)[-1], "selfLink": self_link}
    if items:
        out["items"] = items
    if token:
        out["nextPageToken"] = token
    return out


def _aggregated(emu: Emulator, project: str, kind: str, key: str, by_zone: list[tuple[str, dict[str, Any]]],
                q: Query) -> dict[str, Any]:
    flat = [item for _, item in by_zone]
    zone_of = {id(item): zone for zone, item in by_zone}
    page, token = page_of(flat, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
    scopes: dict[str, dict[str, Any]] = {}
    for item in page:
        scopes.setdefault(f"zones/{zone_of[id(item)]}", {key: []})[key].append(item)
    for zone in all_zones():
        scopes.setdefault(f"zones/{zone}", {"warning": {
            "code": "NO_RESULTS_ON_PAGE", "message": f"There are no results for scope 'zones/{zone}' on this page.",
            "data": [{"key": "scope", "value": f"zones/{zone}"}]}})
    out: dict[str, Any] = {"kind": kind, "id": f"projects/{project}/aggregated/{key}",
                           "items": dict(sorted(scopes.items())),
                           "selfLink": f"{API_ROOT}/projects/{project}/aggregated/{key}"}
    if token:
        out["nextPageToken"] = token
    return out


def _int(value: str | None) -> int | None:
    return int(value) if value else None


# ---------------------------------------------------------------------------- instances
@_route("POST", "projects/{project}/zones/{zone}/instances", "compute.instances.insert")
def _insert(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.insert(p["project"], p["zone"], body or {}, q.get("requestId"))


@_route("GET", "projects/{project}/zones/{zone}/instances", "compute.instances.list")
def _list_instances(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    if p["zone"] not in all_zones():
        raise not_found(f"projects/{p['project']}/zones/{p['zone']}")
    items = emu.model.instances(p["project"], p["zone"])
    page, token = page_of(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
    return 200, _list("compute#instanceList", f"{API_ROOT}/projects/{p['project']}/zones/{p['zone']}/instances",
                      page, token)


@_route("GET", "projects/{project}/aggregated/instances", "compute.instances.aggregatedList")
def _aggregated_instances(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    items = [(i["zone"].rsplit("/", 1)[-1], i) for i in emu.model.instances(p["project"])]
    return 200, _aggregated(emu, p["project"], "compute#instanceAggregatedList", "instances", items, q)


@_route("GET", "projects/{project}/zones/{zone}/instances/{instance}", "compute.instances.get")
def _get_instance(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.get_instance(p["project"], p["zone"], p["instance"])


@_route("DELETE", "projects/{project}/zones/{zone}/instances/{instance}", "compute.instances.delete")
def _delete_instance(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.delete(p["project"], p["zone"], p["instance"], q.get("requestId"))


@_route("POST", "projects/{project}/zones/{zone}/instances/{instance}/start", "compute.instances.start")
def _start_instance(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.start(p["project"], p["zone"], p["instance"], q.get("requestId"))


@_route("POST", "projects/{project}/zones/{zone}/instances/{instance}/setLabels", "compute.instances.setLabels")
def _set_labels(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.set_labels(p["project"], p["zone"], p["instance"], body or {}, q.get("requestId"))


@_route("POST", "projects/{project}/zones/{zone}/instances/{instance}/setMetadata", "compute.instances.setMetadata")
def _set_metadata(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.set_metadata(p["project"], p["zone"], p["instance"], body or {}, q.get("requestId"))


@_route("POST", "projects/{project}/zones/{zone}/instances/{instance}/setTags", "compute.instances.setTags")
def _set_tags(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.set_tags(p["project"], p["zone"], p["instance"], body or {}, q.get("requestId"))


# ---------------------------------------------------------------------------- operations
@_route("GET", "projects/{project}/zones/{zone}/operations/{operation}", "compute.zoneOperations.get")
def _get_operation(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.get_operation(p["project"], p["zone"], p["operation"])


@_route("POST", "projects/{project}/zones/{zone}/operations/{operation}/wait", "compute.zoneOperations.wait")
def _wait_operation(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return 200, emu.model.wait_operation(p["project"], p["zone"], p["operation"])


# ---------------------------------------------------------------------------- catalogue
@_route("GET", "projects/{project}/zones", "compute.zones.list")
def _zones(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    items = [zone_resource(p["project"], z) for z in all_zones()]
    page, token = page_of(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
    return 200, _list("compute#zoneList", f"{API_ROOT}/projects/{p['project']}/zones", page, token)


@_route("GET", "projects/{project}/zones/{zone}", "compute.zones.get")
def _zone(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    if p["zone"] not in all_zones():
        raise not_found(f"projects/{p['project']}/zones/{p['zone']}")
    return 200, zone_resource(p["project"], p["zone"])


def _machine_types(project: str, zone: str) -> list[dict[str, Any]]:
    return [machine_type_resource(project, zone, m) for m in MACHINE_TYPES.values()
            if zone_offers_machine_type(zone, m)]


@_route("GET", "projects/{project}/zones/{zone}/machineTypes", "compute.machineTypes.list")
def _list_machine_types(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    _zone(emu, p, q, body)
    page, token = page_of(_machine_types(p["project"], p["zone"]), q.get("filter"),
                          _int(q.get("maxResults")), q.get("pageToken"))
    return 200, _list("compute#machineTypeList",
                      f"{API_ROOT}/projects/{p['project']}/zones/{p['zone']}/machineTypes", page, token)


@_route("GET", "projects/{project}/zones/{zone}/machineTypes/{machineType}", "compute.machineTypes.get")
def _get_machine_type(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    found = [m for m in _machine_types(p["project"], p["zone"]) if m["name"] == p["machineType"]]
    if p["zone"] not in all_zones() or not found:
        raise not_found(f"projects/{p['project']}/zones/{p['zone']}/machineTypes/{p['machineType']}")
    return 200, found[0]


@_route("GET", "projects/{project}/aggregated/machineTypes", "compute.machineTypes.aggregatedList")
def _aggregated_machine_types(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    items = [(z, m) for z in all_zones() for m in _machine_types(p["project"], z)]
    return 200, _aggregated(emu, p["project"], "compute#machineTypeAggregatedList", "machineTypes", items, q)


def _offered(emu: Emulator, zone: str) -> list[AcceleratorType]:
    return [a for a in accelerators_in(zone) if (zone, a.name) not in emu.knobs.withdrawn]


@_route("GET", "projects/{project}/zones/{zone}/acceleratorTypes", "compute.acceleratorTypes.list")
def _list_accelerator_types(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    _zone(emu, p, q, body)
    items = [accelerator_type_resource(p["project"], p["zone"], a) for a in _offered(emu, p["zone"])]
    page, token = page_of(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
    return 200, _list("compute#acceleratorTypeList",
                      f"{API_ROOT}/projects/{p['project']}/zones/{p['zone']}/acceleratorTypes", page, token)


@_route("GET", "projects/{project}/zones/{zone}/acceleratorTypes/{acceleratorType}", "compute.acceleratorTypes.get")
def _get_accelerator_type(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    kind = ACCELERATOR_TYPES.get(p["acceleratorType"])
    if kind is None or kind not in _offered(emu, p["zone"]):
        raise not_found(f"projects/{p['project']}/zones/{p['zone']}/acceleratorTypes/{p['acceleratorType']}")
    return 200, accelerator_type_resource(p["project"], p["zone"], kind)


@_route("GET", "projects/{project}/aggregated/acceleratorTypes", "compute.acceleratorTypes.aggregatedList")
def _aggregated_accelerator_types(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    items = [(z, accelerator_type_resource(p["project"], z, a)) for z in all_zones() for a in _offered(emu, z)]
    return 200, _aggregated(emu, p["project"], "compute#acceleratorTypeAggregatedList", "acceleratorTypes", items, q)


# ---------------------------------------------------------------------------- images and disk types
def _image_at(emu: Emulator, project: str, path: str) -> tuple[int, Any]:
    found = find_image(project, path, emu.knobs.images)
    if found is None:
        raise not_found(path)
    return 200, image_resource(found[0], found[1], emu.knobs.images)


@_route("GET", "projects/{project}/global/images/family/{family}", "compute.images.getFromFamily")
def _image_from_family(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return _image_at(emu, p["project"], f"projects/{p['project']}/global/images/family/{p['family']}")


@_route("GET", "projects/{project}/global/images/{image}", "compute.images.get")
def _image(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    return _image_at(emu, p["project"], f"projects/{p['project']}/global/images/{p['image']}")


@_route("GET", "projects/{project}/zones/{zone}/diskTypes", "compute.diskTypes.list")
def _list_disk_types(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    _zone(emu, p, q, body)
    items = [disk_type_resource(p["project"], p["zone"], name) for name in DISK_TYPES]
    page, token = page_of(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
    return 200, _list("compute#diskTypeList", f"{API_ROOT}/projects/{p['project']}/zones/{p['zone']}/diskTypes",
                      page, token)


@_route("GET", "projects/{project}/aggregated/diskTypes", "compute.diskTypes.aggregatedList")
def _aggregated_disk_types(emu: Emulator, p: dict[str, str], q: Query, body: Any) -> tuple[int, Any]:
    items = [(z, disk_type_resource(p["project"], z, name)) for z in all_zones() for name in DISK_TYPES]
    return 200, _aggregated(emu, p["project"], "compute#diskTypeAggregatedList", "diskTypes", items, q)
