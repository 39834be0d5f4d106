"""Where plaintext secrets may touch a disk: `.reconciler/tmp/` in the configuration directory (mode 0700,
on the configuration's own disk, never the shared `$TMPDIR`), one folder per run.

A run's folder holds an flock on its `.owner` file for as long as the process lives, so a later run can
tell a live run's folder (lock busy) from one a killed run left behind (lock free) and wipes only those:
after a kill -9 mid-generate or mid-install, the generator's `$out` files and the decrypted host key of
the installer's extra files are gone at the start of the next run. A run removes its own folder at exit.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

TMP = Path(".reconciler") / "tmp"
OWNER = ".owner"
STARTING = 60.0  # seconds a folder without its owner lock is taken to be a run still starting

_mine: dict[Path, Path] = {}  # configuration directory -> this process's folder
_held: list[int] = []  # the owner locks, held until the process exits


def root_of(directory: Path) -> Path:
    return directory / TMP


def wipe_stale(directory: Path) -> int:
    """Remove what dead runs left under `directory`'s private tmp; returns how many folders went."""
    root = root_of(directory)
    try:
        entries = list(root.iterdir())
    except OSError:
        return 0
    wiped = 0
    for entry in entries:
        if entry in _mine.values() or not entry.is_dir() or entry.is_symlink():
            continue
        if _owner_alive(entry):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        wiped += 1
    return wiped


def _owner_alive(folder: Path) -> bool:
    try:
        fd = os.open(folder / OWNER, os.O_RDWR)
    except OSError:  # no owner file: a run that is making its folder right now, or one that died doing so
        try:
            return time.time() - folder.stat().st_mtime < STARTING
        except OSError:
            return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def run_dir(directory: Path) -> Path:
    """This process's private folder under `directory` (made on first use, after wiping stale ones)."""
    directory = directory.resolve()
    mine = _mine.get(directory)
    if mine is not None and mine.is_dir():
        return mine
    root = root_of(directory)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for folder in (root.parent, root):
        os.chmod(folder, 0o700)
    wipe_stale(directory)
    mine = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
    fd = os.open(mine / OWNER, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _held.append(fd)
    _mine[directory] = mine
    atexit.register(shutil.rmtree, mine, True)
    return mine


def scratch(directory: Path, prefix: str) -> Path:
    """A new 0700 folder for plaintext under this run's private folder; remove it when done."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=run_dir(directory)))

