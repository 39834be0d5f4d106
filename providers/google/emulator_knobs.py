"""The emulator's knobs: emulated time, injected faults (403 rate limits, 429 RESOURCE_EXHAUSTED, 5xx,
latency), resourceNotReady while an instance is busy, capacity stockouts per zone and machine type or
accelerator, quotas, the project's networks and own images, and the addresses handed out as NAT IPs.

Knobs are plain data so they can be set in-process (`Emulator.set_knobs(...)`) or over HTTP
(`POST /_emulator/knobs` with a JSON object); `Knobs.updated` validates the names.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Stockout:
    """No capacity in `zone` for `machine_type` and/or `accelerator` (None = anything).

    `at_once`: the insert call itself answers 503; otherwise the insert is accepted and its operation
    finishes with the error (as GCE does most of the time)."""

    zone: str
    machine_type: str | None = None
    accelerator: str | None = None
    at_once: bool = False

    def matches(self, zone: str, machine_type: str, accelerators: Sequence[str]) -> bool:
        if zone != self.zone:
            return False
        if self.machine_type is not None and self.machine_type != machine_type:
            return False
        return self.accelerator is None or self.accelerator in accelerators


# emulated seconds an operation of each type takes before it is DONE (scaled by time_scale)
DEFAULT_DURATIONS = {"insert": 12.0, "delete": 8.0, "setLabels": 2.0, "setMetadata": 2.0, "setTags": 2.0,
                     "start": 6.0}


@dataclass(frozen=True)
class Knobs:
    time_scale: float = 0.05  # real seconds per emulated second
    latency: float = 0.0  # real seconds added to every API request
    rate_limit_rate: float = 0.0  # share of API requests answered 403 rateLimitExceeded
    error_rate: float = 0.0  # share of API requests answered 503 backendError
    rate_limit_next: int = 0  # the next N API requests are answered 403 rateLimitExceeded
    error_next: int = 0  # the next N API requests are answered 503
    exhausted_next: int = 0  # the next N API requests are answered 429 RESOURCE_EXHAUSTED
    staging_after_done: float = 0.0  # emulated seconds an instance stays STAGING after its insert/start is DONE
    not_ready_while_busy: bool = True  # a change to an instance with a running operation: 400 resourceNotReady
    networks: tuple[str, ...] = ()  # networks besides "default" (auto mode: a same-named subnetwork per region)
    images: Mapping[str, str] = field(default_factory=dict)  # the project's own images: name -> family
    stockouts: tuple[Stockout, ...] = ()
    quotas: Mapping[str, float] = field(default_factory=dict)  # GPUS_ALL_REGIONS, CPUS, NVIDIA_L4_GPUS, ...
    quota_in_operation: bool = True  # quota failures inside the operation (else a 403 at once)
    nat_ips: tuple[str, ...] = ()  # hand these out as NAT IPs first (local test hosts)
    # (zone, accelerator type) pairs no longer offered: gone from acceleratorTypes, refused by insert
    withdrawn: tuple[tuple[str, str], ...] = ()
    wait_timeout: float = 120.0  # emulated seconds zoneOperations.wait blocks at most
    durations: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))
    seed: int = 0

    def updated(self, changes: Mapping[str, Any]) -> Knobs:
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        values = dict(changes)
        if "stockouts" in values:
            values["stockouts"] = tuple(s if isinstance(s, Stockout) else Stockout(**s) for s in values["stockouts"])
        if "withdrawn" in values:
            values["withdrawn"] = tuple((str(z), str(a)) for z, a in values["withdrawn"])
        if "nat_ips" in values:
            values["nat_ips"] = tuple(values["nat_ips"])
        if "networks" in values:
            values["networks"] = tuple(str(n) for n in values["networks"])
        if "images" in values:
            values["images"] = {str(k): str(v) for k, v in values["images"].items()}
        if "quotas" in values:
            values["quotas"] = {str(k): float(v) for k, v in values["quotas"].items()}
        if "durations" in values:
            values["durations"] = {**DEFAULT_DURATIONS, **values["durations"]}
        return replace(self, **values)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["stockouts"] = [vars(s) for s in self.stockouts]
        out["nat_ips"] = list(self.nat_ips)
        out["networks"] = list(self.networks)
        out["images"] = dict(self.images)
        out["withdrawn"] = [list(w) for w in self.withdrawn]
        out["quotas"] = dict(self.quotas)
        out["durations"] = dict(self.durations)
        return out


class FaultDice:
    """Decides, request by request, whether an injected fault answers instead of the API."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def reseed(self, seed: int) -> None:
        self.random.seed(seed)

    def pick(self, knobs: Knobs) -> tuple[Knobs, str | None]:
        """(knobs with one-shot counters consumed, "rate_limit" | "exhausted" | "error" | None)."""
        if knobs.rate_limit_next > 0:
            return replace(knobs, rate_limit_next=knobs.rate_limit_next - 1), "rate_limit"
        if knobs.exhausted_next > 0:
            return replace(knobs, exhausted_next=knobs.exhausted_next - 1), "exhausted"
        if knobs.error_next > 0:
            return replace(knobs, error_next=knobs.error_next - 1), "error"
        roll = self.random.random()
        if roll < knobs.rate_limit_rate:
            return knobs, "rate_limit"
        if roll < knobs.rate_limit_rate + knobs.error_rate:
            return knobs, "error"
        return knobs, None
