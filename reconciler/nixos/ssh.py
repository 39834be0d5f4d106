"""SSH to machines with asyncssh: strict host-key checking against the pinned key (or, for the installer
and first contact, an explicit "accept and report"), one connection per host reused across commands, and
commands sent as argument lists quoted with shlex.join. A host that answers with another key raises
HostKeyError naming both fingerprints; one that does not answer raises UnreachableError."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncssh

from reconciler.errors import CommandError, HostKeyError
from reconciler.nixos.errors import UnreachableError
from reconciler.nixos.knownhosts import host_pattern, key_only
from reconciler.nixos.nixcmd import Result as Output  # a remote command's outcome is shaped like a local one

ANY_KEY = "*"  # pin value meaning: accept whatever key the host presents (installer, trust on first use)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int = 22
    user: str = "root"
    key_file: str | None = None

    def __str__(self) -> str:
        return f"{self.user}@{host_pattern(self.host, self.port)}"



def fingerprint(key: str) -> str:
    return str(asyncssh.import_public_key(key_only(key)).get_fingerprint("sha256"))


class Session:
    """One live connection to one host; commands are argument lists."""

    def __init__(self, endpoint: Endpoint, conn: asyncssh.SSHClientConnection, host_key: str) -> None:
        self.endpoint = endpoint
        self.host_key = host_key  # the key the host presented ("ssh-ed25519 AAAA...")
        self._conn = conn
        self.closed = False

    async def run(self, argv: Sequence[str], *, timeout: float | None = None, stdin: str | bytes | None = None,
                  check: bool = False, what: str | None = None) -> Output:
        command = shlex.join(argv)
        try:
            res = await self._conn.run(command, input=stdin, timeout=timeout, check=False,
                                       encoding=None if isinstance(stdin, bytes) else "utf-8")
        except asyncssh.TimeoutError as exc:
            raise CommandError(f"{what or argv[0]} on {self.endpoint} timed out after {timeout}s",
                               argv=argv, stderr=str(exc.stderr or "")) from None
        except (asyncssh.DisconnectError, asyncssh.ChannelOpenError, OSError) as exc:
            self.closed = True
            raise UnreachableError(f"lost the SSH connection to {self.endpoint}: {exc}") from None
        stdout, stderr = res.stdout or "", res.stderr or ""
        if isinstance(stdout, bytes):
            stdout = stdout.decode(errors="replace")
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        code = res.exit_status if res.exit_status is not None else 255
        out = Output(tuple(argv), code, stdout, stderr)
        if check and not out.ok:
            tail = "\n".join(stderr.strip().splitlines()[-6:])
            last = tail.splitlines()[-1] if tail else f"exit code {code}"
            raise CommandError(f"{what or argv[0]} on {self.endpoint} failed: {last}", argv=argv,
                               exit_code=code, stderr=tail)
        return out

    async def start(self, argv: Sequence[str]) -> asyncssh.SSHClientProcess[bytes]:
        """A long-running remote process with binary stdin/stdout (a protocol spoken over this connection)."""
        try:
            return await self._conn.create_process(shlex.join(argv), encoding=None)
        except (asyncssh.DisconnectError, asyncssh.ChannelOpenError, OSError) as exc:
            self.closed = True
            raise UnreachableError(f"lost the SSH connection to {self.endpoint}: {exc}") from None

    def close(self) -> None:
        self.closed = True
        self._conn.close()

    async def wait_closed(self) -> None:
        await asyncio.wait_for(self._conn.wait_closed(), 5)


async def connect(endpoint: Endpoint, pinned: str, *, timeout: float = 10.0) -> Session:
    """Open a connection; `pinned` is the one key accepted, or ANY_KEY."""
    options: dict[str, Any] = {
        "port": endpoint.port, "username": endpoint.user, "connect_timeout": timeout,
        "keepalive_interval": 15, "keepalive_count_max": 4,
    }
    if endpoint.key_file:
        options["client_keys"] = [endpoint.key_file]
        options["agent_path"] = None
    if pinned == ANY_KEY:
        options["known_hosts"] = None
    else:
        trusted = asyncssh.import_public_key(key_only(pinned))
        options["known_hosts"] = ([trusted], [], [])
        options["server_host_key_algs"] = [trusted.get_algorithm()]
    try:
        conn = await asyncssh.connect(endpoint.host, **options)
    except asyncssh.HostKeyNotVerifiable:
        offered = await _offered_key(endpoint, pinned, timeout)
        raise HostKeyError(
            f"{endpoint} presented host key {offered or 'unknown'}, not the pinned "
            f"{fingerprint(pinned)}; refusing to connect",
            hint="a reinstalled or impostor host; if the change is expected, update its host_key") from None
    except asyncssh.PermissionDenied as exc:
        raise UnreachableError(f"{endpoint} refused the SSH login: {exc.reason}",
                               hint="check ssh_private_key_file and the host's authorized keys") from None
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        raise UnreachableError(f"cannot reach {endpoint} over SSH: {exc or type(exc).__name__}") from None
    presented = conn.get_server_host_key()
    key = presented.export_public_key("openssh").decode().strip() if presented is not None else ""
    return Session(endpoint, conn, key_only(key))


async def _offered_key(endpoint: Endpoint, pinned: str, timeout: float) -> str | None:
    algs = [asyncssh.import_public_key(key_only(pinned)).get_algorithm()]
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(endpoint.host, endpoint.port,
                                                                  server_host_key_algs=algs), timeout)
    except (OSError, TimeoutError, asyncssh.Error):
        try:  # the host has no key of the pinned type at all
            key = await asyncio.wait_for(asyncssh.get_server_host_key(endpoint.host, endpoint.port), timeout)
        except (OSError, TimeoutError, asyncssh.Error):
            return None
    return str(key.get_fingerprint("sha256")) if key is not None else None


class SessionPool:
    """At most one connection per (user, host, port, pinned key), reused; bound to one event loop."""

    def __init__(self, connect_timeout: float = 10.0) -> None:
        self.connect_timeout = connect_timeout
        self._sessions: dict[tuple[Endpoint, str], Session] = {}
        self._locks: dict[tuple[Endpoint, str], asyncio.Lock] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.opened = 0  # connections opened so far (for tests and benchmarks)

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new asyncio.run(): connections of the old loop are unusable
            self._sessions.clear()
            self._locks.clear()
            self._loop = loop

    async def get(self, endpoint: Endpoint, pinned: str) -> Session:
        self._check_loop()
        slot = (endpoint, pinned)
        lock = self._locks.setdefault(slot, asyncio.Lock())
        async with lock:
            session = self._sessions.get(slot)
            if session is None or session.closed:
                session = await connect(endpoint, pinned, timeout=self.connect_timeout)
                self.opened += 1
                self._sessions[slot] = session
            return session

    def drop(self, endpoint: Endpoint) -> None:
        """Close every connection to this endpoint (after a reboot, an activation, a host-key change)."""
        for slot in [s for s in self._sessions if s[0] == endpoint]:
            self._sessions.pop(slot).close()

    async def close(self) -> None:
        self._check_loop()  # connections of an earlier event loop cannot be closed from this one
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            session.close()
        for session in sessions:
            with contextlib.suppress(TimeoutError, RuntimeError, asyncssh.Error):
                await session.wait_closed()
