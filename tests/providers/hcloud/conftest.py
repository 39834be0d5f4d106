"""Fixtures for the hcloud provider tests: a fresh emulator per test on a fast clock, providers pointed at
it with matching poll timings, and a journal that keeps what the provider wrote (and can crash on record)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

from providers.base import ApplyRequest, ApplyResponse, PlanRequest, PlanResponse, ProviderConfig, RecordedResource
from providers.base import Journal as JournalProtocol
from providers.hcloud import HcloudProvider, create_provider
from providers.hcloud.emulator import Emulator, start_emulator
from reconciler.actions import Action

SCALE = 200.0  # emulated seconds per real second
LINEAGE = "5b0e7c1e-0000-4000-8000-00000000beef"
T = TypeVar("T")


class SimulatedCrash(BaseException):
    """Raised by a journal to stand for the process dying at that moment."""


class Journal:
    """What the engine's journal would persist, kept in memory."""

    def __init__(self, crash_on_record: bool = False) -> None:
        self.intents: dict[str, Any] = {}
        self.records: list[tuple[str, dict[str, Any]]] = []
        self.phases: list[str] = []
        self.crash_on_record = crash_on_record

    def intend(self, **data: Any) -> None:
        self.intents.update(data)

    def record(self, id: str, attributes: Mapping[str, Any], private: Mapping[str, Any] | None = None) -> None:
        if self.crash_on_record:
            raise SimulatedCrash(f"killed right after the create answered (id {id})")
        self.records.append((id, dict(attributes)))

    def phase(self, name: str) -> None:
        self.phases.append(name)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(time_scale=SCALE, token="test-token") as emu:
        yield emu


def make_provider(emu: Emulator, lineage: str = LINEAGE, **settings: Any) -> HcloudProvider:
    values = {"token": "test-token", "endpoint": emu.endpoint, "poll_interval": 0.5 / SCALE, **settings}
    return create_provider(ProviderConfig("hcloud", values, lineage, Path(".")))


def server_config(**extra: Any) -> dict[str, Any]:
    """A small server configuration; keyword arguments override or add attributes."""
    return {"name": "web", "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1",
            "labels": {"role": "web"}, **extra}


def recorded(address: str, resp: ApplyResponse | Any, type_: str = "hcloud_server") -> RecordedResource:
    return RecordedResource(address, type_, resp.id, dict(resp.attributes), dict(resp.private))


def plan_one(provider: HcloudProvider, address: str, config: Mapping[str, Any],
             prior: RecordedResource | None, type_: str = "hcloud_server") -> PlanResponse:
    [resp] = provider.plan([PlanRequest(address, type_, dict(config), prior)])
    return resp


async def create(provider: HcloudProvider, address: str, config: Mapping[str, Any],
                 journal: JournalProtocol | None = None, pending: Mapping[str, Any] | None = None,
                 type_: str = "hcloud_server") -> ApplyResponse:
    return await provider.apply(ApplyRequest(address, type_, Action.CREATE, dict(config), None, dict(pending or {})),
                                journal or Journal())


def owned_servers(emu: Emulator, lineage: str = LINEAGE) -> list[dict[str, Any]]:
    return [s for s in emu.servers() if s["labels"].get("reconciler-lineage") == lineage]
