"""A stand-in for a provider whose real implementation is not installed: it plans offline (carrying
recorded computed attributes over, everything else UNKNOWN) and refuses to touch anything, saying so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from providers.base import (
    ApplyRequest,
    ApplyResponse,
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
)
from reconciler.errors import NotAvailableError
from reconciler.plan.decide import with_unknown_computed
from reconciler.values import UNKNOWN

KNOWN_TYPES: dict[str, dict[str, TypeInfo]] = {
    "hcloud": {
        "hcloud_server": TypeInfo(ResourceKind.CLOUD, frozenset({"id", "ipv4_address", "ipv6_address", "status"})),
        "hcloud_ssh_key": TypeInfo(ResourceKind.CLOUD, frozenset({"id", "fingerprint"})),
    },
    "google": {
        "google_compute_instance": TypeInfo(ResourceKind.CLOUD, frozenset({
            "id", "instance_id", "status", "zone", "network_interface.*.network_ip",
            "network_interface.*.access_config.*.nat_ip"})),
    },
    "nixos": {"nixos_machine": TypeInfo(ResourceKind.MACHINE, frozenset({"toplevel", "host_key"}))},
}


class PlaceholderProvider:
    max_parallel = 1

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._types = KNOWN_TYPES.get(config.name, {})

    def types(self) -> Mapping[str, TypeInfo]:
        return self._types

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]:
        out = []
        for r in requests:
            info = self._types[r.type]
            if r.prior is None:
                planned = with_unknown_computed(r.config, info)
            else:
                planned = dict(r.config)
                for name in info.computed:
                    if "." not in name and name not in r.config:
                        planned[name] = r.prior.attributes.get(name, UNKNOWN)
            out.append(PlanResponse(r.address, planned))
        return out

    def _refuse(self, what: str) -> NotAvailableError:
        return NotAvailableError(f'{what} through the "{self.name}" provider is not available yet in this build',
                                 hint="use plan --no-refresh; the provider arrives in a later release")

    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        raise self._refuse("refresh")

    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        raise self._refuse(f"{request.action.value} of {request.address}")

    async def import_resource(self, request: ImportRequest) -> ObservedResource:
        raise self._refuse("import")

    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None:
        return None

    async def close(self) -> None:
        return None
