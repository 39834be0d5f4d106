"""Refresh of `google_compute_instance`: one label-filtered `instances.aggregatedList` (500 to a page) finds
every instance this state's lineage created; recorded ones are matched by id, unrecorded wanted addresses
are adopted by their address label, and recorded ones missing from the listing (imported instances carry
no ownership labels) are looked up one by one before being declared gone. Explicit accelerators are then
checked against the zones' `acceleratorTypes`, fetched once per provider with one filtered aggregatedList.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers.base import (
    LABEL_ADDRESS,
    LABEL_LINEAGE,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    ObservedResource,
    RefreshRequest,
    RefreshResponse,
    address_label,
)
from providers.google.attributes import instance_id, observed, parse_id, short

if TYPE_CHECKING:
    from providers.google.api import ComputeApi


def ownership_filter(lineage: str) -> str:
    """The `filter` of the refresh listing, in the API's syntax."""
    return f'(labels.{LABEL_MANAGED_BY} = "{MANAGED_BY}") AND (labels.{LABEL_LINEAGE} = "{lineage}")'


class AcceleratorCatalog:
    """Which accelerator types each zone offers, asked once per (zone, type) for the provider's lifetime."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], bool] = {}

    def check(self, api: ComputeApi, wanted: list[tuple[str, str, str]]) -> list[str]:
        """Warnings for each (address, zone, accelerator type) whose zone does not offer the type."""
        missing = {(zone, type_) for _, zone, type_ in wanted if (zone, type_) not in self._known}
        if missing:
            offered = api.accelerator_zones(sorted({t for _, t in missing}))
            for zone, type_ in missing:
                self._known[(zone, type_)] = type_ in offered.get(zone, set())
        return [f"{address}: accelerator type {type_} is not offered in zone {zone} (not among its "
                "acceleratorTypes); the instance could not be created there again"
                for address, zone, type_ in sorted(wanted) if not self._known[(zone, type_)]]


def refresh_instances(api: ComputeApi, lineage: str, request: RefreshRequest,
                      catalog: AcceleratorCatalog) -> RefreshResponse:
    listed, _ = api.aggregated_instances(ownership_filter(lineage))
    project = api.project
    by_id: dict[str, Mapping[str, Any]] = {}
    by_address: dict[str, Mapping[str, Any]] = {}
    inst: Mapping[str, Any] | None
    for inst in listed:
        by_id[instance_id(project, short(inst.get("zone", "")), str(inst.get("name")))] = inst
        label = (inst.get("labels") or {}).get(LABEL_ADDRESS)
        if label:
            by_address[label] = inst
    found: dict[str, ObservedResource] = {}
    gone: set[str] = set()
    for rec in request.recorded:
        if rec.id is None:
            continue
        _, zone, name = parse_id(rec.id)
        key = instance_id(project, zone, name)
        inst = by_id.get(key)
        if inst is None:
            inst = api.get(zone, name)  # not listed: not ours by label (imported), or gone
        if inst is None:
            gone.add(rec.address)
            continue
        found[rec.address] = ObservedResource(key, observed(project, inst, rec.attributes), {"zone": zone})
    recorded = {r.address for r in request.recorded if r.id is not None}
    adopted: dict[str, ObservedResource] = {}
    for address, _type in request.wanted:
        inst = by_address.get(address_label(address))
        if address in recorded or inst is None:
            continue
        zone = short(inst.get("zone", ""))
        adopted[address] = ObservedResource(instance_id(project, zone, str(inst.get("name"))),
                                            observed(project, inst, None), {"zone": zone})
    gpu_zones = [(address, str(obs.attributes["zone"]), str(acc["type"]))
                 for address, obs in [*found.items(), *adopted.items()]
                 for acc in obs.attributes.get("guest_accelerator") or []]
    warnings = catalog.check(api, gpu_zones) if gpu_zones else []
    return RefreshResponse(found, frozenset(gone), adopted, tuple(warnings))
