"""A Compute Engine API emulator on loopback: the v1 REST subset the google provider uses (instances insert,
get, delete, list, aggregatedList, setLabels, setMetadata, setTags, start; zoneOperations get and wait;
zones, machineTypes, acceleratorTypes, diskTypes, images get and getFromFamily), served over HTTP so the
real `google-cloud-compute` client can talk to it. `Emulator.terminate` (or `POST /_emulator/terminate`)
stops an instance the way host maintenance or a Spot preemption does.

Start it in-process with `start_emulator(port=0, **knobs)` (a context manager; `.endpoint` goes into
`provider "google" { endpoint = ... }`) or standalone with `python -m providers.google.emulator --port N`.
Knobs (see emulator_knobs.Knobs) are set with `.set_knobs(...)` or `POST /_emulator/knobs`; requests are
counted by method and path template (`.request_counts`, `GET /_emulator/requests`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.addresses import AddressAllocator
from providers.google.emulator_knobs import FaultDice, Knobs
from providers.google.emulator_model import ComputeModel
from providers.google.emulator_resources import ApiError
from providers.google.emulator_routes import PREFIX, Query, find_route


# ---------------------------------------------------------------------------- faults
def _fault_error(kind: str) -> ApiError:
    if kind == "rate_limit":
        return ApiError(403, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
    if kind == "exhausted":
        return ApiError(429, "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service "
                        "'compute.googleapis.com' for consumer 'project_number:0'.", "rateLimitExceeded",
                        domain="usageLimits")
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
    # listen backlog: socketserver's default of 5 drops the SYNs of a burst of new connections (an apply's
    # threads connecting at once), and each dropped one costs the client a 1 s retransmission
    request_queue_size = 256
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _RequestHandler)


class Emulator:
    """One running emulator: the model, the HTTP server on its own thread, counters and knobs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, knobs: Knobs | None = None,
                 addresses: AddressAllocator | None = None) -> None:
        self.model = ComputeModel(knobs or Knobs(), addresses=addresses)
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

    def terminate(self, project: str, zone: str, name: str, reason: str = "maintenance") -> dict[str, Any]:
        """Stop an instance as GCE does on its own: "maintenance" (a GPU host's maintenance event, for
        instances that cannot migrate) or "preemption" (Spot); it stays TERMINATED until started."""
        return self.model.terminate(project, zone, name, reason)

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
        found = find_route(method, path[len(PREFIX):])
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
        except Exception as e:  # a server answers a bug with a 500, never a dropped connection
            return 500, ApiError(500, f"Internal error: {type(e).__name__}: {e}", "backendError").body()

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
            if what == "terminate" and method == "POST":
                given = dict(body or {})
                return 200, self.terminate(str(given["project"]), str(given["zone"]), str(given["name"]),
                                           str(given.get("reason", "maintenance")))
        except ApiError as e:
            return e.status, e.body()
        except (TypeError, ValueError, KeyError) as e:
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


def start_emulator(host: str = "127.0.0.1", port: int = 0, addresses: AddressAllocator | None = None,
                   **knobs: Any) -> Emulator:
    """Start an emulator on a background thread; use it as a context manager or call `.stop()`. `addresses`
    hands out new instances' addresses (default: distinct loopback addresses)."""
    return Emulator(host, port, Knobs().updated(knobs), addresses).start()


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
        while not stop.wait(0.2):
            pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
