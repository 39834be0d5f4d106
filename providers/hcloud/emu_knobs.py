"""The emulator's knobs: how fast time runs, how often it fails, what it refuses, which addresses it hands out.

Every knob can be set when the emulator starts, changed in-process with `Emulator.set_knobs(...)`, or over
HTTP with `POST /_emulator/knobs` (a JSON object of the knobs to change), so a test that runs the
reconciler as a subprocess can steer it too. Durations are in emulated seconds; `time_scale` says how many
emulated seconds pass per real second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_DURATIONS: dict[str, float] = {
    "create_server": 10.0,
    "start_server": 2.0,  # after create: counted from the end of create_server
    "delete_server": 3.0,
    "stop_server": 2.0,
    "shutdown_server": 3.0,
    "reboot_server": 3.0,
    "reset_server": 2.0,
    "change_server_type": 10.0,
    "enable_backup": 1.0,
    "disable_backup": 1.0,
}


@dataclass
class Knobs:
    time_scale: float = 1.0  # emulated seconds per real second
    durations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))
    latency: float = 0.0  # real seconds added to every API request
    error_rate: float = 0.0  # fraction of API requests answered with a 5xx
    storm_429: int = 0  # the next N API requests are answered 429 whatever the budget
    create_then_fail: int = 0  # the next N POST /servers create the server, then answer 503
    rate_limit: int = 3600  # RateLimit-Limit
    rate_refill: float = 1.0  # requests regained per emulated second
    unavailable: dict[str, list[str]] = field(default_factory=dict)  # location -> server types ([] = all)
    fail_actions: dict[str, int] = field(default_factory=dict)  # action command -> how many to fail next
    server_limit: int | None = None  # resource_limit_exceeded beyond this many servers
    token: str | None = None  # when set, any other bearer token is unauthorized
    readonly_token: str | None = None  # a token that may only GET (token_readonly)
    server_ips: list[str] = field(default_factory=list)  # IPv4 addresses to hand out first, in order
    firewalls: list[int] = field(default_factory=list)  # ids of the firewalls that exist in the project
    protected: list[str] = field(default_factory=list)  # names of servers with delete protection on
    lock_writes: int = 0  # the next N PUT/DELETE/POST on a server answer 423 locked (an action we did not start)
    conflict_writes: int = 0  # the next N PUT/DELETE/POST on a server answer 409 conflict
    maintenance: int = 0  # the next N API requests answer 503 maintenance
    placement_error: int = 0  # the next N POST /servers answer 412 placement_error
    seed: int = 0  # for the random 5xx choice

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        for key, value in changes.items():
            if key == "durations":
                merged = dict(self.durations)
                merged.update({k: float(v) for k, v in dict(value).items()})
                value = merged
            setattr(self, key, value)
        if self.time_scale <= 0:
            raise ValueError("time_scale must be > 0")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
