"""A cache of parsed `.tf` files, keyed by their content, so a command run again on unchanged files does not
load the HCL parser at all.

python-hcl2's LALR parser is rebuilt from its tables in every process (about 0.1 s, plus 0.05 s importing
hcl2 and lark): more than the rest of a small `validate`. A file whose name and text were parsed before is
read back from the user's cache directory (reconciler/cache.py: `$RECONCILER_CACHE_DIR`, default
`$XDG_CACHE_HOME/reconciler`, else `~/.cache/reconciler`; `off` turns it off) instead. The key also covers the
code that makes the tree (this package's parser modules and python-hcl2's grammar) and the Python version, so
a changed parser never reads an old tree. Only files that parsed without error are cached.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from reconciler import cache as store
from reconciler.config import syntax as s

CACHE_ENV = store.CACHE_ENV
# the modules whose code decides the tree a text parses to
_MAKERS = ("syntax.py", "hcl_lower.py", "hcl_loader.py", "template_text.py", "limits.py", "parse_cache.py",
           "../errors.py")


def directory() -> Path | None:
    """Where entries live, or None when the cache is off."""
    return store.directory("syntax")


@cache
def _code_digest() -> bytes:
    return store.code_digest(Path(__file__).parent, _MAKERS, "hcl2", ("hcl2.lark",))


def _key(display: str, text: str) -> str:
    h = hashlib.sha256(_code_digest())
    h.update(display.encode())
    h.update(b"\0")
    h.update(text.encode())
    return h.hexdigest()


def get(display: str, text: str) -> s.SourceFile | None:
    """The tree cached for this file name and text, or None."""
    found = store.load(directory(), f"{_key(display, text)}.pickle")
    return found if isinstance(found, s.SourceFile) and found.text == text else None


def put(display: str, text: str, tree: s.SourceFile) -> None:
    """Keep `tree` for the next run (best effort: a cache that cannot be written is left alone)."""
    store.store(directory(), f"{_key(display, text)}.pickle", tree)
