"""Schema checks that passed, kept between runs, so a command run again on an unchanged configuration does
not import jsonschema at all (about 0.08 s of a 0.2 s `validate`).

Each schema keeps one entry in the user's cache directory (reconciler/cache.py), named by a digest of the
schema, the attributes the Terraform provider has and we refuse, this package's checking code, jsonschema's
keyword code and the Python version: a changed schema or checker never reads an old verdict. An entry holds
only digests of the checks that passed (the attribute and its value, or a rule and the values it reads),
never a value itself. Attributes that may hold secrets are marked `writeOnly` in the schemas (a provider's
token or credentials, the pg backend's conn_str, a server's user_data, an instance's metadata): no kept check
depends on their values at all, not even as a digest (schema.py checks them on every run). A check not found
here goes to jsonschema, as it would without a cache; failures are never kept, so every error message is
jsonschema's.
"""

from __future__ import annotations

import atexit
import hashlib
import json
from collections.abc import Callable, Hashable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from reconciler import cache as store

T = TypeVar("T")
KIND = "verdicts"
MAX_KEPT = 200_000  # digests per schema; past that a run's new ones are not added (16 bytes each)
# the code that decides a verdict: ours, and jsonschema's keywords, types and formats
_OURS = ("schema.py", "schema_verdicts.py", "../values.py")
_JSONSCHEMA = ("_keywords.py", "_legacy_keywords.py", "_types.py", "_format.py", "validators.py", "_utils.py")
_unsaved: list[Verdicts] = []  # the schemas whose verdicts grew in this process; `save` runs at exit


@cache
def _code_digest() -> bytes:
    return store.code_digest(Path(__file__).parent, _OURS, "jsonschema", _JSONSCHEMA)


def digest(key: Hashable) -> bytes:
    """A check's digest: its key is a tuple of names, types and plain values, and reprs of containers."""
    return hashlib.blake2b(repr(key).encode(), digest_size=16).digest()


class Verdicts:
    """The checks of one schema known to pass."""

    def __init__(self, name: str, schema: Mapping[str, Any], unsupported: Mapping[str, Any] | None) -> None:
        h = hashlib.sha256(_code_digest())
        h.update(json.dumps([name, schema, unsupported], sort_keys=True).encode())
        self._entry = f"{h.hexdigest()}.pickle"
        self._where = store.directory(KIND)
        loaded = store.load(self._where, self._entry)
        self._passed: set[bytes] = loaded if isinstance(loaded, set) else set()
        self._grew = False

    def __contains__(self, key: Hashable) -> bool:
        return digest(key) in self._passed

    def problems(self, key: Hashable | None, check: Callable[[], list[T]]) -> list[T]:
        """No problems when check `key` is known to pass; else `check()`'s, and a check that passed is kept.
        A None key is a check that must not be kept (it reads a secret's value): it always runs."""
        if key is not None and key in self:
            return []
        found = check()
        if not found and key is not None:
            self.add(key)
        return found

    def add(self, key: Hashable) -> None:
        """A check that passed, to be kept when the process exits."""
        found = digest(key)
        if self._where is None or found in self._passed or len(self._passed) >= MAX_KEPT:
            return
        self._passed.add(found)
        if not self._grew:
            self._grew = True
            _unsaved.append(self)

    def save(self) -> None:
        if self._grew:
            store.store(self._where, self._entry, self._passed)
            self._grew = False


def save() -> None:
    """Keep what this process learnt (runs at exit; best effort)."""
    while _unsaved:
        _unsaved.pop().save()


atexit.register(save)
