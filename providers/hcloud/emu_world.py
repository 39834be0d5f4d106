"""The emulated Hetzner Cloud project: servers, SSH keys and actions, an emulated clock, the request budget,
and the addresses handed to new servers. All state changes happen under one lock.

Actions run on the emulated clock: each has a finish time and its effect (the server is running, is gone,
has a new type) is applied lazily, the first time anything looks at the world after that moment, so no
background thread is needed and a scaled clock makes a 30 s action take milliseconds.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from providers.addresses import AddressAllocator, LoopbackAddresses
from providers.hcloud.emu_knobs import Knobs
from providers.hcloud.emu_model import (
    ActionRec,
    ApiError,
    ServerRec,
    SshKeyRec,
    StaticCatalog,
    invalid_input,
    render_server,
)
from providers.hcloud.label_selector import LabelSelectorError, parse

_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")  # RFC 1123: dots allowed
LABEL_KEY = re.compile(r"^((?=[^/]{1,253}/)[a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?"
                       r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")
LOOPBACK_NET = "127.1.0.0/16"  # the default addresses of new servers (see providers/addresses.py)


def fingerprint(public_key: str) -> str:
    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, ValueError):
        raise invalid_input("public_key", "invalid public key") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def check_labels(labels: Any) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise invalid_input("labels", "must be an object")
    for k, v in labels.items():
        if not isinstance(v, str) or not LABEL_KEY.match(k) or not LABEL_VALUE.match(v) or k.startswith(
                "hetzner.cloud/"):
            raise invalid_input("labels", f"invalid label {k!r}={v!r}")
    return dict(labels)


class _Budget:
    """The project's request budget: `limit` requests, regained at `refill` per emulated second."""

    def __init__(self, limit: int) -> None:
        self.tokens = float(limit)
        self.at = 0.0

    def take(self, now: float, knobs: Knobs) -> bool:
        self.tokens = min(float(knobs.rate_limit), self.tokens + (now - self.at) * knobs.rate_refill)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def headers(self, knobs: Knobs, exhausted: bool = False) -> dict[str, str]:
        """RateLimit headers; `exhausted` answers as if the whole budget were spent (a 429 storm).

        Reset is a whole UNIX second as the API sends it; on a scaled clock, where a second is far too
        coarse, it keeps three decimals."""
        tokens = 0.0 if exhausted else self.tokens
        real_rate = max(knobs.rate_refill * knobs.time_scale, 1e-9)
        reset = time.time() + (knobs.rate_limit - tokens) / real_rate
        return {"RateLimit-Limit": str(knobs.rate_limit), "RateLimit-Remaining": str(int(tokens)),
                "RateLimit-Reset": str(math.ceil(reset)) if knobs.time_scale == 1 else f"{reset:.3f}"}


class World:
    def __init__(self, knobs: Knobs, catalog: StaticCatalog | None = None,
                 addresses: AddressAllocator | None = None) -> None:
        self.knobs = knobs
        self.addresses = addresses or LoopbackAddresses(LOOPBACK_NET)
        self.catalog = catalog or StaticCatalog()
        self.lock = threading.RLock()
        self._real0 = time.monotonic()
        self._emu0 = time.time()
        self.servers: dict[int, ServerRec] = {}
        self.ssh_keys: dict[int, SshKeyRec] = {}
        self.actions: dict[int, ActionRec] = {}
        self._effects: dict[int, Callable[[ActionRec], None]] = {}
        self._ids = itertools.count(1)
        self._action_ids = itertools.count(1)
        self.budget = _Budget(knobs.rate_limit)
        self.budget.at = self.now()
        self._released: list[str] = []  # knobs.server_ips given back, handed out again first
        self._given = 0  # how many of knobs.server_ips were handed out

    # ------------------------------------------------------------------------------------ clock
    def now(self) -> float:
        return self._emu0 + (time.monotonic() - self._real0) * self.knobs.time_scale

    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), UTC).date()

    def render(self, server: ServerRec) -> dict[str, Any]:
        return render_server(server, self.catalog, self.knobs.unavailable, self.today())

    def set_knobs(self, changes: dict[str, Any]) -> None:
        with self.lock:
            now = self.now()
            self.knobs.update(changes)
            self._emu0, self._real0 = now, time.monotonic()  # the clock stays continuous across a new scale

    def tick(self) -> None:
        """Finish every action whose time has come, in order, applying its effect."""
        now = self.now()
        due = sorted((a for a in self.actions.values() if a.status == "running" and a.finishes <= now),
                     key=lambda a: (a.finishes, a.id))
        for action in due:
            action.status = "error" if action.fail else "success"
            if action.fail:
                action.error = {"code": "action_failed", "message": f"{action.command} failed (injected)"}
            effect = self._effects.pop(action.id, None)
            if effect is not None:
                effect(action)

    def new_action(self, command: str, server_id: int | None, duration: float | None = None,
                   start: float | None = None, effect: Callable[[ActionRec], None] | None = None) -> ActionRec:
        started = self.now()
        span = self.knobs.durations.get(command, 1.0) if duration is None else duration
        fail = self.knobs.fail_actions.get(command, 0) > 0
        if fail:
            self.knobs.fail_actions[command] -= 1
        resources = [{"id": server_id, "type": "server"}] if server_id is not None else []
        action = ActionRec(next(self._action_ids), command, resources, started,
                           (start if start is not None else started) + span, fail)
        self.actions[action.id] = action
        if effect is not None:
            self._effects[action.id] = effect
        return action

    def running_actions(self, server_id: int) -> list[ActionRec]:
        return [a for a in self.actions.values() if a.status == "running"
                and any(r["id"] == server_id and r["type"] == "server" for r in a.resources)]

    # ------------------------------------------------------------------------------------ addresses
    def _take_ipv4(self, name: str) -> str:
        """knobs.server_ips first (in order), then the address allocator's."""
        in_use = {s.ipv4 for s in self.servers.values()}
        while self._given < len(self.knobs.server_ips):
            ip = self.knobs.server_ips[self._given]
            self._given += 1
            if ip not in in_use:
                return ip
        while self._released:
            ip = self._released.pop(0)
            if ip not in in_use:
                return ip
        try:
            return self.addresses.allocate(name)
        except Exception as e:  # the allocator's own failure (no address, a host that did not start)
            raise ApiError(412, "resource_unavailable", f"no IPv4 address is available: {e}") from None

    def release(self, server: ServerRec) -> None:
        if server.ipv4 and server.ipv4 in self.knobs.server_ips:
            self._released.append(server.ipv4)
        elif server.ipv4:
            self.addresses.release(server.ipv4)

    # ------------------------------------------------------------------------------------ queries
    @staticmethod
    def selector(query: dict[str, list[str]]) -> Any:
        raw = query.get("label_selector", [""])[0]
        try:
            return parse(raw)
        except LabelSelectorError as e:
            raise invalid_input("label_selector", str(e)) from None

    def server(self, sid: int) -> ServerRec:
        found = self.servers.get(sid)
        if found is None:
            raise ApiError(404, "not_found", f"server with ID '{sid}' not found")
        return found

    def ssh_key(self, kid: int) -> SshKeyRec:
        found = self.ssh_keys.get(kid)
        if found is None:
            raise ApiError(404, "not_found", f"SSH key with ID '{kid}' not found")
        return found

    def resolve_ssh_key(self, ref: Any) -> SshKeyRec:
        for k in self.ssh_keys.values():
            if str(ref) in (str(k.id), k.name):
                return k
        raise invalid_input("ssh_keys", f"SSH key {ref!r} not found")

    def next_id(self) -> int:
        return next(self._ids)
