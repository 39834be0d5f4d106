"""A throwaway PostgreSQL server for tests: Debian's binaries, run as the `postgres` user when we are root,
listening only on a Unix socket in a temporary directory."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def unavailable_reason() -> str | None:
    if pg_bin() is None:
        return "PostgreSQL server binaries are not installed (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user to run the server as"
    return None


@contextmanager
def postgres() -> Iterator[str]:
    """Start a server; yields a libpq connection string."""
    binaries = pg_bin()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="reconciler-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    prefix: list[str] = []
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        user = "postgres"
        shutil.chown(root, user)
        shutil.chown(sock, user)
        prefix = ["runuser", "-u", user, "--"]
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", user],
                       check=True, capture_output=True)
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"),
                        "-o", f"-c listen_addresses='' -k {sock} -c fsync=off", "start"],
                       check=True, capture_output=True)
        yield f"host={sock} user={user} dbname=postgres"
    finally:
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
