"""A Compute Engine API emulator on loopback: the v1 REST subset the google provider uses (instances insert,
get, delete, list, aggregatedList, setLabels, setMetadata; zoneOperations get and wait; zones,
machineTypes and acceleratorTypes), served over HTTP so the real `google-cloud-compute` client can talk to it.

Start it in-process with `start_emulator(port=0, **knobs)` (a context manager; `.endpoint` goes into
`provider "google" { endpoint = ... }`) or standalone with `python -m providers.google.emulator --port N`.
Knobs (see emulator_knobs.Knobs) are set with `.set_knobs(...)` or `POST /_emulator/knobs`; requests are
counted by method and path template (`.request_counts`, `GET /_emulator/requests`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.google.emulator_catalog import (
    ACCELERATOR_TYPES,
    API_ROOT,
    MACHINE_TYPES,
    AcceleratorType,
    accelerator_type_resource,
    accelerators_in,
    all_zones,
    machine_type_resource,
    zone_offers_machine_type,
    zone_resource,
)
from providers.google.emulator_knobs import FaultDice, Knobs
from providers.google.emulator_model import ComputeModel
from providers.google.emulator_resources import ApiError, not_found

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


def _find_route(method: str, path: str) -> tuple[dict[str, str], str, str, Handler] | None:
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
    page, token = emu.model.page(flat, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
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
    page, token = emu.model.page(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
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
    page, token = emu.model.page(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
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
    page, token = emu.model.page(_machine_types(p["project"], p["zone"]), q.get("filter"),
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
    page, token = emu.model.page(items, q.get("filter"), _int(q.get("maxResults")), q.get("pageToken"))
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


# ---------------------------------------------------------------------------- faults
def _fault_error(kind: str) -> ApiError:
    if kind == "rate_limit":
        return ApiError(403, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
    return ApiError(503, "Internal error. Please try again or contact Google Support. (Code: 'emulated')",
                    "backendError")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30  # an idle keep-alive connection ends after this many seconds

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.server.emulator.connections.add(self.connection)

    def finish(self) -> None:
        self.server.emulator.connections.discard(self.connection)
        super().finish()

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(400, ApiError(400, "Invalid JSON payload received.", "parseError").body())
            return
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        status, payload = self.server.emulator.dispatch(self.command, url.path, query, body)
        self._send(status, payload)

    do_GET = do_POST = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _RequestHandler)


class Emulator:
    """One running emulator: the model, the HTTP server on its own thread, counters and knobs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None) -> None:
        self.model = ComputeModel(knobs or Knobs())
        self._dice = FaultDice(self.model.knobs.seed)
        self._counts: Counter[str] = Counter()
        self._calls: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def knobs(self) -> Knobs:
        return self.model.knobs

    def set_knobs(self, **changes: Any) -> Knobs:
        with self.model.cond:
            self.model.knobs = self.model.knobs.updated(changes)
            if "seed" in changes:
                self._dice.reseed(int(changes["seed"]))
            return self.model.knobs

    @property
    def request_counts(self) -> dict[str, int]:
        """API requests so far by "METHOD /compute/v1/path/{template}" (control requests not counted)."""
        with self._count_lock:
            return dict(self._counts)

    @property
    def calls(self) -> dict[str, int]:
        """API requests so far by API method id ("compute.instances.aggregatedList")."""
        with self._count_lock:
            return dict(self._calls)

    @property
    def request_total(self) -> int:
        with self._count_lock:
            return sum(self._counts.values())

    def reset_counts(self) -> None:
        with self._count_lock:
            self._counts.clear()
            self._calls.clear()

    def instances(self, project: str) -> list[dict[str, Any]]:
        return self.model.instances(project)

    def add_instance(self, project: str, zone: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create an instance at once (its operation finished), without counting a request: for seeding."""
        op = self.model.insert(project, zone, body, None)
        self.model.settle()
        return op

    def dispatch(self, method: str, path: str, query: Query, body: Any) -> tuple[int, Any]:
        if path.startswith("/_emulator/"):
            return self._control(method, path[len("/_emulator/"):], body)
        if not path.startswith(PREFIX):
            return 404, ApiError(404, f"Not found: {path}", "notFound").body()
        found = _find_route(method, path[len(PREFIX):])
        if found is None:
            return 404, ApiError(404, f"The requested URL {path} was not found on this server.", "notFound").body()
        params, template, api, fn = found
        with self._count_lock:
            self._counts[f"{method} {template}"] += 1
            self._calls[api] += 1
        with self.model.cond:
            self.model.knobs, fault = self._dice.pick(self.model.knobs)
            latency = self.model.knobs.latency
        if latency:
            time.sleep(latency)
        try:
            if fault is not None:
                raise _fault_error(fault)
            return fn(self, params, query, body)
        except ApiError as e:
            return e.status, e.body()

    def _control(self, method: str, what: str, body: Any) -> tuple[int, Any]:
        try:
            if what == "knobs" and method == "POST":
                return 200, self.set_knobs(**(body or {})).as_json()
            if what == "knobs":
                return 200, self.knobs.as_json()
            if what == "requests":
                return 200, {"total": self.request_total, "by_path": self.request_counts, "by_method": self.calls}
            if what == "requests/reset" and method == "POST":
                self.reset_counts()
                return 200, {}
            if what.startswith("instances/"):
                return 200, {"items": self.instances(what.split("/", 1)[1])}
        except (TypeError, ValueError) as e:
            return 400, {"error": {"code": 400, "message": str(e)}}
        return 404, {"error": {"code": 404, "message": f"unknown control path /_emulator/{what}"}}

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"gce-emulator-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.shutdown()
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> Emulator:
    """Start an emulator on a background thread; use it as a context manager or call `.stop()`."""
    return Emulator(host, port, Knobs().updated(knobs)).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m providers.google.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=Knobs.time_scale,
                        help="real seconds per emulated second (default %(default)s)")
    parser.add_argument("--nat-ip", action="append", default=[], help="hand out this address as a NAT IP first")
    args = parser.parse_args(argv)
    emulator = start_emulator(args.host, args.port, time_scale=args.time_scale, nat_ips=args.nat_ip)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f'provider "google" {{ endpoint = "{emulator.endpoint}" }}', flush=True)
    try:
        stop.wait()
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
