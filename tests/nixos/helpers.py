"""Driving the provider as the engine does: plan requests in, apply requests out, state as RecordedResource."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.base import (
    ApplyRequest,
    ApplyResponse,
    PlanRequest,
    PlanResponse,
    ProviderConfig,
    RecordedResource,
    RefreshRequest,
    RefreshResponse,
)
from reconciler.actions import Action
from reconciler.nixos import NixosProvider, create_provider
from tests.hosts.farm import STAND_IN, HostFarm, TestHost

TYPE = "nixos_machine"


@dataclass
class Journal:
    """What the engine's journal would write to state, kept in memory (the provider's real collaborator)."""

    records: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    intents: list[dict[str, Any]] = field(default_factory=list)

    def intend(self, **data: Any) -> None:
        self.intents.append(data)

    def record(self, id: str, attributes: Mapping[str, Any], private: Mapping[str, Any] | None = None) -> None:
        self.records.append((id, dict(attributes), dict(private or {})))

    def phase(self, name: str) -> None:
        self.phases.append(name)

    @property
    def install_phases(self) -> list[str]:
        return [p["install_phase"] for _, _, p in self.records if "install_phase" in p]

FAST = {"nixos_anywhere": str(STAND_IN), "confirm_timeout": 2.0, "poll_interval": 0.05, "connect_timeout": 3.0,
        "reboot_timeout": 20.0, "activation_timeout": 60.0}


def provider(workdir: Path, **settings: Any) -> NixosProvider:
    return create_provider(ProviderConfig("nixos", {**FAST, **settings}, "lineage-test", workdir))


def machine_config(farm: HostFarm, host: TestHost, flake: str, **extra: Any) -> dict[str, Any]:
    return {"target_host": host.address, "ssh_private_key_file": str(farm.client_key), "flake": flake, **extra}


def plan_one(prov: NixosProvider, address: str, config: Mapping[str, Any],
             prior: RecordedResource | None) -> PlanResponse:
    (resp,) = prov.plan([PlanRequest(address, TYPE, config, prior)])
    return resp


def apply(prov: NixosProvider, action: Action, address: str, planned: Mapping[str, Any],
          prior: RecordedResource | None, journal: Journal | None = None) -> ApplyResponse:
    return asyncio.run(prov.apply(ApplyRequest(address, TYPE, action, planned, prior), journal or Journal()))


def refresh(prov: NixosProvider, *records: RecordedResource) -> RefreshResponse:
    return asyncio.run(prov.refresh(RefreshRequest(tuple(records), tuple((r.address, TYPE) for r in records))))


def recorded(address: str, resp: ApplyResponse) -> RecordedResource:
    return RecordedResource(address, TYPE, resp.id, resp.attributes, resp.private)


def close(prov: NixosProvider) -> None:
    asyncio.run(prov.close())
