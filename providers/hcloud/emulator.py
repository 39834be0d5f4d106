"""A Hetzner Cloud API emulator on loopback, for tests, benchmarks and `reconciler sandbox`.

`start_emulator(host, port, **knobs)` starts it in a background thread and returns an `Emulator` (a context
manager): pass `.endpoint` as the provider's `endpoint`, read `.request_counts`, steer it with
`.set_knobs(...)`, stop it with `.stop()`. `python -m providers.hcloud.emulator --port N` runs it in the
foreground. Control endpoints for another process: `GET|POST /_emulator/knobs`, `GET|DELETE
/_emulator/requests`, `GET /_emulator/servers`, `GET /_emulator/ssh_keys`.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from providers.addresses import AddressAllocator
from providers.hcloud import emu_ops
from providers.hcloud.emu_http import Handler, RequestLog, Routes, random_source
from providers.hcloud.emu_knobs import Knobs
from providers.hcloud.emu_model import render_ssh_key
from providers.hcloud.emu_world import World

__all__ = ["Emulator", "Knobs", "main", "start_emulator"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # listen backlog: socketserver's default of 5 drops the SYNs of a burst of new connections (an apply's
    # threads connecting at once), and each dropped one costs the client a 1 s retransmission
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], world: World) -> None:
        super().__init__(address, Handler)
        self.world = world
        self.routes = Routes(world)
        self.log = RequestLog()
        self.rng = random_source(world.knobs.seed)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (a killed apply) is normal here; anything else is reported."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def control(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        world = self.world
        if path == "/_emulator/knobs":
            if method in ("POST", "PUT", "PATCH"):
                world.set_knobs(body)
                if "seed" in body:
                    self.rng = random_source(int(body["seed"]))
            return 200, world.knobs.as_dict()
        if path == "/_emulator/requests":
            if method == "DELETE":
                self.log.reset()
            return 200, {"requests": self.log.snapshot()}
        if path == "/_emulator/servers":
            with world.lock:
                world.tick()
                return 200, {"servers": [world.render(s) for s in world.servers.values()]}
        if path == "/_emulator/ssh_keys":
            with world.lock:
                return 200, {"ssh_keys": [render_ssh_key(k) for k in world.ssh_keys.values()]}
        return 404, {"error": {"code": "not_found", "message": f"no control endpoint {path}"}}


class Emulator:
    """A running emulator. Stop it with `.stop()` or by leaving its `with` block."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, addresses: AddressAllocator | None = None,
                 **knobs: Any) -> None:
        settings = Knobs()
        settings.update(knobs)
        self.world = World(settings, addresses=addresses)
        self._server = _Server((host, port), self.world)
        self.host, self.port = str(self._server.server_address[0]), int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"hcloud-emulator-{self.port}", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests served so far, by method and path template (e.g. `GET /servers/{id}`)."""
        return self._server.log.snapshot()

    @property
    def total_requests(self) -> int:
        return sum(self.request_counts.values())

    def reset_counts(self) -> None:
        self._server.log.reset()

    def set_knobs(self, **changes: Any) -> None:
        self.world.set_knobs(changes)
        if "seed" in changes:
            self._server.rng = random_source(int(changes["seed"]))

    def servers(self) -> list[dict[str, Any]]:
        """Every server as the API would render it now (finished actions applied)."""
        with self.world.lock:
            self.world.tick()
            return [self.world.render(s) for s in self.world.servers.values()]

    def add_server(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a server directly (as `POST /servers` would, without HTTP and uncounted), e.g. to fill a
        project for a benchmark; returns the API's answer (`server`, `action`, `next_actions`)."""
        with self.world.lock:
            return emu_ops.create_server(self.world, body)

    def ssh_keys(self) -> list[dict[str, Any]]:
        with self.world.lock:
            return [render_ssh_key(k) for k in self.world.ssh_keys.values()]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_emulator(host: str = "127.0.0.1", port: int = 0, addresses: AddressAllocator | None = None,
                   **knobs: Any) -> Emulator:
    """Start an emulator in a background thread of this process; knobs as in `Knobs`; `addresses` hands out
    new servers' IPv4 addresses (default: distinct loopback addresses)."""
    return Emulator(host, port, addresses, **knobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m providers.hcloud.emulator",
                                     description="Emulate the Hetzner Cloud API on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--knobs", default="{}", help="JSON object of knobs, e.g. '{\"time_scale\": 10}'")
    parser.add_argument("--server-ip", action="append", default=[], dest="server_ips",
                        help="hand out this IPv4 address to a new server (repeatable, in order)")
    args = parser.parse_args(argv)
    knobs = json.loads(args.knobs)
    if args.server_ips:
        knobs["server_ips"] = args.server_ips
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator = start_emulator(args.host, args.port, **knobs)
    print(json.dumps({"endpoint": emulator.endpoint}), flush=True)
    while not stop.wait(0.2):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
