"""The emulator's HTTP layer: authentication, the request budget (RateLimit headers, 429), injected latency
and 5xx answers, the request counter, pagination and label selectors on list endpoints, and the routes of
the API subset the provider uses (`/v1/servers`, `/v1/ssh_keys`, `/v1/server_types`, `/v1/locations`,
`/v1/images`, `/v1/pricing`, `/v1/actions`) plus the control endpoints under `/_emulator/`.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.hcloud import emu_ops
from providers.hcloud.emu_model import ApiError, invalid_input, render_ssh_key
from providers.hcloud.emu_world import World
from providers.hcloud.label_selector import matches

PREFIX = "/v1"
_NUMERIC = re.compile(r"/\d+(?=/|$)")
SERVER_ERRORS = ((500, "server_error", "internal server error"), (502, None, "Bad Gateway"),
                 (503, "unavailable", "service temporarily unavailable"), (504, "timeout", "request timed out"))


class RequestLog:
    """Counts every API request by method and path template (`GET /servers/{id}`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, method: str, path: str) -> None:
        key = f"{method} {_NUMERIC.sub('/{id}', path)}"
        with self.lock:
            self.counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.counts)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


def _int(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = query.get(name, [str(default)])[0]
    try:
        return int(raw)
    except ValueError:
        raise invalid_input(name, "must be an integer") from None


MAX_PER_PAGE = 50
MAX_ACTION_IDS = 25  # ids per GET /actions request


def paginate(items: Sequence[Any], query: dict[str, list[str]], key: str) -> dict[str, Any]:
    page = _int(query, "page", 1)
    per_page = _int(query, "per_page", 25)
    if page < 1:
        raise invalid_input("page", "must be at least 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid_input("per_page", f"must be between 1 and {MAX_PER_PAGE}")
    total = len(items)
    last = max(1, math.ceil(total / per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    return {key: list(chunk), "meta": {"pagination": {
        "page": page, "per_page": per_page, "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < last else None, "last_page": last, "total_entries": total}}}


def _sorted(items: list[Any], query: dict[str, list[str]], attr: Callable[[Any, str], Any]) -> list[Any]:
    for spec in reversed(query.get("sort", [])):
        field, _, direction = spec.partition(":")
        if field not in ("id", "name", "created"):
            raise invalid_input("sort", f"cannot sort by {field!r}")
        def key(obj: Any, name: str = field) -> Any:
            return attr(obj, name)

        items = sorted(items, key=key, reverse=direction == "desc")
    return items


class Routes:
    """Maps (method, path) to a handler over the world; each returns (status, body or None)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[
            int, dict[str, Any] | None]:
        w = self.world
        parts = [p for p in path.split("/") if p]
        if not parts:
            raise ApiError(404, "not_found", "not found")
        head, rest = parts[0], parts[1:]
        ident = int(rest[0]) if rest and rest[0].isdigit() else None
        if head == "servers":
            return self._servers(method, rest, ident, query, body)
        if head == "ssh_keys":
            return self._ssh_keys(method, ident, query, body)
        if method != "GET":
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}")
        if head == "actions":
            if ident is not None:
                found = w.actions.get(ident)
                if found is None:
                    raise ApiError(404, "not_found", f"action with ID '{ident}' not found")
                return 200, {"action": found.render(w.now())}
            if not query.get("id"):
                raise ApiError(410, "deprecated_api_endpoint", "API functionality was removed",
                               {"announcement": "https://docs.hetzner.cloud/changelog#2025-01-30-listing-arbitrary-"
                                                "actions-in-the-actions-list-endpoint-is-removed"})
            if not all(i.isdigit() for i in query["id"]):
                raise invalid_input("id", "must be an integer")
            ids = {int(i) for i in query["id"]}
            if len(ids) > MAX_ACTION_IDS:
                raise invalid_input("id", f"at most {MAX_ACTION_IDS} ids per request")
            statuses = set(query.get("status", []))
            actions = [a for a in w.actions.values() if a.id in ids and (not statuses or a.status in statuses)]
            now = w.now()
            return 200, paginate([a.render(now) for a in sorted(actions, key=lambda a: a.id)], query, "actions")
        if head == "server_types":
            types = [w.catalog.server_type(s, w.knobs.unavailable, w.today()) for s in w.catalog.types.values()]
            return self._list_or_one(types, ident, query, "server_types", "server_type")
        if head == "locations":
            return self._list_or_one(list(w.catalog.locations.values()), ident, query, "locations", "location")
        if head == "images":
            images = [i for i in w.catalog.images.values()
                      if "architecture" not in query or i["architecture"] in query["architecture"]]
            return self._list_or_one(images, ident, query, "images", "image")
        if head == "pricing":
            return 200, {"pricing": w.catalog.pricing()}
        raise ApiError(404, "not_found", f"no such endpoint {path}")

    def _list_or_one(self, items: list[dict[str, Any]], ident: int | None, query: dict[str, list[str]],
                     plural: str, singular: str) -> tuple[int, dict[str, Any]]:
        if ident is not None:
            for item in items:
                if item["id"] == ident:
                    return 200, {singular: item}
            raise ApiError(404, "not_found", f"{singular} with ID '{ident}' not found")
        if "name" in query:
            items = [i for i in items if i["name"] == query["name"][0]]
        return 200, paginate(items, query, plural)

    def _servers(self, method: str, rest: list[str], ident: int | None, query: dict[str, list[str]],
                 body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        w = self.world
        if not rest:
            if method == "POST":
                return 201, emu_ops.create_server(w, body)
            if method != "GET":
                raise ApiError(405, "method_not_allowed", f"{method} is not allowed on /servers")
            selector = w.selector(query)
            statuses = set(query.get("status", []))
            found = [s for s in w.servers.values() if matches(selector, s.labels)
                     and ("name" not in query or s.name == query["name"][0])
                     and (not statuses or s.status in statuses)]
            found = _sorted(sorted(found, key=lambda s: s.id), query, lambda s, f: getattr(s, f))
            rendered = [w.render(s) for s in found]
            return 200, paginate(rendered, query, "servers")
        if ident is None:
            raise ApiError(404, "not_found", "not found")
        if len(rest) == 1:
            if method == "GET":
                return 200, {"server": w.render(w.server(ident))}
            if method == "PUT":
                return 200, emu_ops.update_server(w, ident, body)
            if method == "DELETE":
                return 200, emu_ops.delete_server(w, ident)
        if len(rest) >= 2 and rest[1] == "actions":
            if len(rest) == 3 and method == "POST":
                return 201, emu_ops.server_action(w, ident, rest[2], body)
            if len(rest) == 2 and method == "GET":
                w.server(ident)
                statuses = set(query.get("status", []))
                now = w.now()
                actions = [a.render(now) for a in sorted(w.actions.values(), key=lambda a: a.id)
                           if any(r["id"] == ident for r in a.resources) and (not statuses or a.status in statuses)]
                return 200, paginate(actions, query, "actions")
        raise ApiError(405, "method_not_allowed", f"{method} is not allowed here")

    def _ssh_keys(self, method: str, ident: int | None, query: dict[str, list[str]],
                  body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        w = self.world
        if ident is None:
            if method == "POST":
                return 201, emu_ops.create_ssh_key(w, body)
            selector = w.selector(query)
            keys = [k for k in sorted(w.ssh_keys.values(), key=lambda k: k.id) if matches(selector, k.labels)
                    and ("name" not in query or k.name == query["name"][0])
                    and ("fingerprint" not in query or k.fingerprint == query["fingerprint"][0])]
            return 200, paginate([render_ssh_key(k) for k in keys], query, "ssh_keys")
        if method == "GET":
            return 200, {"ssh_key": render_ssh_key(w.ssh_key(ident))}
        if method == "PUT":
            return 200, emu_ops.update_ssh_key(w, ident, body)
        if method == "DELETE":
            emu_ops.delete_ssh_key(w, ident)
            return 204, None
        raise ApiError(405, "method_not_allowed", f"{method} is not allowed here")


class Handler(BaseHTTPRequestHandler):
    """One HTTP request; the server object carries `world`, `routes`, `log`, `rng` and `control`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # one write for the head and the body, as a real server sends a small answer (two would wake the client
        # twice; with Nagle, the second would wait for the client's delayed ACK: 40 ms an answer)
        self.wfile.write(self._head() + data)

    def _head(self) -> bytes:
        """The status line and headers `send_response` and `send_header` gathered, ended by the blank line
        (what `end_headers` would write on its own)."""
        lines: list[bytes] = getattr(self, "_headers_buffer", [])
        self._headers_buffer: list[bytes] = []
        return b"".join(lines) + b"\r\n"

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        raw = self.rfile.read(length)
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError(400, "json_error", "invalid JSON in request body") from None
        if not isinstance(data, dict):
            raise ApiError(400, "json_error", "the request body must be a JSON object")
        return data

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path.startswith("/_emulator/"):
            try:
                status, body = self.server.control(method, url.path, self._body())
            except (ApiError, ValueError) as e:
                status, body = 400, {"error": {"code": "invalid_input", "message": str(e)}}
            self._send(status, body)
            return
        world: World = self.server.world
        path = url.path[len(PREFIX):] if url.path.startswith(PREFIX) else url.path
        self.server.log.add(method, path)
        if world.knobs.latency > 0:
            time.sleep(world.knobs.latency)
        headers: dict[str, str] = {}
        try:
            body = self._body()
            with world.lock:
                self._authorize(world, method)
                storm = world.knobs.storm_429 > 0
                if storm or not world.budget.take(world.now(), world.knobs):
                    world.knobs.storm_429 = max(0, world.knobs.storm_429 - 1)
                    headers = world.budget.headers(world.knobs, exhausted=storm)
                    raise ApiError(429, "rate_limit_exceeded", "limit of requests per hour reached")
                headers = world.budget.headers(world.knobs)
                if world.knobs.maintenance > 0:
                    world.knobs.maintenance -= 1
                    raise ApiError(503, "maintenance", "cannot perform operation due to maintenance")
                if world.knobs.error_rate > 0 and self.server.rng.random() < world.knobs.error_rate:
                    status_code, code, message = self.server.rng.choice(SERVER_ERRORS)
                    if code is None:
                        self._send(status_code, None, headers, raw=b"<html><body>502 Bad Gateway</body></html>")
                        return
                    raise ApiError(status_code, code, message)
                world.tick()
                fail_after = method == "POST" and path == "/servers" and world.knobs.create_then_fail > 0
                status, payload = self.server.routes.dispatch(method, path, query, body)
                if fail_after:
                    world.knobs.create_then_fail -= 1
                    raise ApiError(503, "unavailable", "service temporarily unavailable")
        except ApiError as e:
            self._send(e.status, e.body(), headers)
            return
        self._send(status, payload, headers)

    def _authorize(self, world: World, method: str) -> None:
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if not token or (world.knobs.token is not None and token not in (world.knobs.token,
                                                                           world.knobs.readonly_token)):
            raise ApiError(401, "unauthorized", "unable to authenticate")
        if token == world.knobs.readonly_token and method != "GET":
            raise ApiError(401, "token_readonly", "the token is only allowed to perform GET requests")


def random_source(seed: int) -> random.Random:
    return random.Random(seed)
