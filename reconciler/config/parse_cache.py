"""A cache of parsed `.tf` files, keyed by their content, so a command run again on unchanged files does not
load the HCL parser at all.

python-hcl2's LALR parser is rebuilt from its tables in every process (about 0.1 s, plus 0.05 s importing
hcl2 and lark): more than the rest of a small `validate`. A file whose name and text were parsed before is
read back from `$RECONCILER_CACHE_DIR` (default `$XDG_CACHE_HOME/reconciler`, else `~/.cache/reconciler`)
instead. The key also covers the code that makes the tree (this package's parser modules and python-hcl2's
grammar) and the Python version, so a changed parser never reads an old tree. Only files that parsed without
error are cached. The cache is an optimisation only: a directory that cannot be read or written, or an entry
that cannot be loaded, is a miss, never an error; `RECONCILER_CACHE_DIR=off` turns it off. Entries are
Python pickles, so a directory that is not the user's own, or that others may write to, is never read.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
from functools import cache
from pathlib import Path

from reconciler.config import syntax as s

CACHE_ENV = "RECONCILER_CACHE_DIR"
KEEP = 2000  # entries kept; beyond that the least recently written half is removed
# the modules whose code decides the tree a text parses to
_MAKERS = ("syntax.py", "hcl_lower.py", "hcl_loader.py", "template_text.py", "limits.py", "parse_cache.py",
           "../errors.py")


def directory() -> Path | None:
    """Where entries live, or None when the cache is off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen) / "syntax"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reconciler" / "syntax"


@cache
def _code_digest() -> bytes:
    h = hashlib.sha256(sys.version.encode())
    here = Path(__file__).parent
    for name in _MAKERS:
        h.update((here / name).read_bytes())
    spec = importlib.util.find_spec("hcl2")  # finds the package without importing it
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        grammar = Path(location) / "hcl2.lark"
        if grammar.is_file():
            h.update(grammar.read_bytes())
    return h.digest()


def _key(display: str, text: str) -> str:
    h = hashlib.sha256(_code_digest())
    h.update(display.encode())
    h.update(b"\0")
    h.update(text.encode())
    return h.hexdigest()


def _private(where: Path) -> bool:
    """The directory is ours and nobody else may write to it (what is in it is loaded as pickles)."""
    try:
        st = where.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def get(display: str, text: str) -> s.SourceFile | None:
    """The tree cached for this file name and text, or None."""
    where = directory()
    if where is None or not _private(where):
        return None
    try:
        with open(where / f"{_key(display, text)}.pickle", "rb") as f:
            found = pickle.load(f)
    except Exception:  # missing, unreadable, truncated or from another layout: a miss
        return None
    return found if isinstance(found, s.SourceFile) and found.text == text else None


def put(display: str, text: str, tree: s.SourceFile) -> None:
    """Keep `tree` for the next run (best effort: a cache that cannot be written is left alone)."""
    where = directory()
    if where is None:
        return
    with contextlib.suppress(Exception):  # an entry that cannot be written is only a later miss
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(where):
            return
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(tree, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, where / f"{_key(display, text)}.pickle")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(where)


def _prune(where: Path) -> None:
    entries = list(where.glob("*.pickle"))
    if len(entries) <= KEEP:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for old in entries[: len(entries) - KEEP // 2]:
        with contextlib.suppress(OSError):
            old.unlink()
