"""The user's cache directory, shared by everything reconciler keeps between runs to start faster (parsed
`.tf` files, schema verdicts). It is an optimisation only: a directory that cannot be read or written, or
an entry that cannot be loaded, is a miss, never an error.

`$RECONCILER_CACHE_DIR` chooses the directory (`off` turns every cache off); the default is
`$XDG_CACHE_HOME/reconciler`, else `~/.cache/reconciler`. Entries are Python pickles, so a directory that is
not the user's own, or that others may write to, is never read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_ENV = "RECONCILER_CACHE_DIR"


def directory(kind: str) -> Path | None:
    """Where entries of `kind` (a subdirectory name) live, or None when caching is off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen) / kind
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reconciler" / kind


def private(where: Path) -> bool:
    """The directory is ours and nobody else may write to it (what is in it is loaded as pickles)."""
    try:
        st = where.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def load(where: Path | None, name: str) -> Any:
    """The object in entry `name`, or None (caching off, a directory others may write to, a missing or
    unreadable entry)."""
    if where is None or not private(where):
        return None
    try:
        with open(where / name, "rb") as f:
            return pickle.load(f)
    except Exception:  # missing, unreadable, truncated or from another layout: a miss
        return None


def store(where: Path | None, name: str, value: Any, keep: int = 2000) -> None:
    """Keep `value` as entry `name` (atomically; best effort). Past `keep` entries the least recently
    written half is removed."""
    if where is None:
        return
    import tempfile

    with contextlib.suppress(Exception):  # an entry that cannot be written is only a later miss
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not private(where):
            return
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, where / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(where, keep)


def package_file(package: str, name: str) -> Path | None:
    """A file of an installed top-level package, found on sys.path without importing the package (nor
    importlib.util), for cache keys that must change when that package's code does."""
    for entry in sys.path:
        path = Path(entry or ".") / package / name
        if path.is_file():
            return path
    return None


def code_digest(here: Path, ours: Iterable[str], package: str, theirs: Iterable[str]) -> bytes:
    """A digest of the code that decides what a cache holds: the Python version, our files `ours` (relative
    to `here`) and the files `theirs` of the installed `package`, so a changed one never reads an old entry."""
    h = hashlib.sha256(sys.version.encode())
    for name in ours:
        h.update((here / name).read_bytes())
    for name in theirs:
        path = package_file(package, name)
        if path is not None:
            h.update(path.read_bytes())
    return h.digest()


def _prune(where: Path, keep: int) -> None:
    entries = list(where.glob("*.pickle"))
    if len(entries) <= keep:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for old in entries[: len(entries) - keep // 2]:
        with contextlib.suppress(OSError):
            old.unlink()
