"""Helpers for the google provider tests: a journal that keeps what the engine's would (pending intent
merged across calls, the recorded id) and can crash on `record`, configurations, and a provider wired to
an emulator with tiny backoff so retries do not slow the suite."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from providers.base import ApplyRequest, ProviderConfig, RecordedResource
from providers.google import GoogleProvider, RetryPolicy, create_provider
from providers.google.emulator import Emulator
from reconciler.actions import Action

T = TypeVar("T")
TYPE = "google_compute_instance"
PROJECT = "sandbox"
LINEAGE = "6f1c2a9e-lineage"
FAST = RetryPolicy(base=0.001, cap=0.01, attempts=8)


class Crash(Exception):
    """Stands for the process dying at this point."""


class RecordingJournal:
    """Keeps `pending` and the recorded id like the engine's StepJournal; `crash_on_record` raises there."""

    def __init__(self, action: Action, crash_on_record: bool = False) -> None:
        self.pending: dict[str, Any] = {"action": action.value}
        self.recorded: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.phases: list[str] = []
        self.crash_on_record = crash_on_record

    def intend(self, **data: Any) -> None:
        self.pending.update(data)

    def record(self, id: str, attributes: Mapping[str, Any], private: Mapping[str, Any] | None = None) -> None:
        if self.crash_on_record:
            raise Crash("killed between insert and record")
        self.recorded.append((id, dict(attributes), dict(private or {})))

    def phase(self, name: str) -> None:
        self.phases.append(name)


def gpu_config(name: str = "gpu-1", **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": name, "machine_type": "g2-standard-4", "zone": "us-central1-a",
        "boot_disk": [{"initialize_params": [{"image": "debian-cloud/debian-12", "size": 50, "type": "pd-balanced"}]}],
        "network_interface": [{"network": "default", "subnetwork": None, "access_config": [{}]}],
        "guest_accelerator": [{"type": "nvidia-l4", "count": 1}],
        "scheduling": [{"on_host_maintenance": "TERMINATE"}],
        "labels": {"role": "gpu"},
    }
    config.update(extra)
    return config


def small_config(name: str, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": name, "machine_type": "e2-small", "zone": "europe-west4-a",
        "boot_disk": [{"initialize_params": [{"image": "debian-cloud/debian-12"}]}],
        "network_interface": [{"network": "default", "access_config": [{}]}],
    }
    config.update(extra)
    return config


def make_provider(emulator: Emulator, lineage: str = LINEAGE, **options: Any) -> GoogleProvider:
    settings = {"project": PROJECT, "endpoint": emulator.endpoint}
    provider = create_provider(ProviderConfig("google", settings, lineage, Path(".")),
                               **{"retry": FAST, **options})
    assert isinstance(provider, GoogleProvider)
    return provider


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def create_request(address: str, config: Mapping[str, Any], pending: Mapping[str, Any] | None = None) -> ApplyRequest:
    return ApplyRequest(address, TYPE, Action.CREATE, copy.deepcopy(dict(config)), None, dict(pending or {}))


def recorded(address: str, id_: str | None, attributes: Mapping[str, Any],
             private: Mapping[str, Any] | None = None) -> RecordedResource:
    return RecordedResource(address, TYPE, id_, dict(attributes), dict(private or {}))


def seed(emulator: Emulator, name: str, zone: str, labels: Mapping[str, str], machine: str = "e2-micro") -> None:
    """An instance created directly in the emulator (as if by someone else, or by an earlier run)."""
    emulator.add_instance(PROJECT, zone, {
        "name": name, "machineType": f"zones/{zone}/machineTypes/{machine}",
        "disks": [{"boot": True,
                   "initializeParams": {"sourceImage": "projects/debian-cloud/global/images/family/debian-12",
                                        "diskType": f"zones/{zone}/diskTypes/pd-balanced"}}],
        "networkInterfaces": [{"network": "global/networks/default"}], "labels": dict(labels)})
