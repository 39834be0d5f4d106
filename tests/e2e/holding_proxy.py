"""A loopback HTTP proxy to put in front of an emulator, which can hold back the answer to one request.

`proxy.hold("POST", r"/servers$")` arms a `Hold`: the next matching request is passed on to the emulator (so
the server or instance is really made), and its answer is kept from the client until `release()`. The test
waits for `hold.answered`, kills the CLI, and so stands exactly in the window between a create call and the
moment its answer (the new id) could be recorded. Every other request passes straight through.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host",
                        "proxy-connection", "te", "trailer", "upgrade"})


class Hold:
    """One armed hold: `answered` is set once the emulator has answered the held request."""

    def __init__(self, method: str, pattern: str) -> None:
        self.method = method
        self.pattern = re.compile(pattern)
        self.answered = threading.Event()
        self.released = threading.Event()
        self.status: int | None = None
        self.body: bytes = b""

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.pattern.search(path) is not None

    def release(self) -> None:
        self.released.set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _relay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(self.server.upstream_host, self.server.upstream_port, timeout=120)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            status, reason, answer_headers = answer.status, answer.reason, answer.getheaders()
        finally:
            upstream.close()
        hold = self.server.take_hold(self.command, urlsplit(self.path).path)
        if hold is not None:
            hold.status, hold.body = status, data
            hold.answered.set()
            hold.released.wait(timeout=120)
        self.send_response(status, reason)
        for key, value in answer_headers:
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.holds: list[Hold] = []

    def take_hold(self, method: str, path: str) -> Hold | None:
        with self.lock:
            for hold in self.holds:
                if hold.matches(method, path):
                    self.holds.remove(hold)
                    return hold
        return None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The client of a held answer was killed: writing to it fails, as it should."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class HoldingProxy:
    """A running proxy to `upstream` (an emulator's base URL); `.url(path)` is the proxied address."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream needs a host and a port: {upstream}")
        self._server = _ProxyServer(parts.hostname, parts.port)
        self._path = parts.path
        self._armed: list[Hold] = []
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="e2e-holding-proxy", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{self._path}"

    def hold(self, method: str, pattern: str) -> Hold:
        hold = Hold(method, pattern)
        with self._server.lock:
            self._server.holds.append(hold)
        self._armed.append(hold)
        return hold

    def stop(self) -> None:
        for hold in self._armed:
            hold.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> HoldingProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with contextlib.suppress(OSError):
            self.stop()
