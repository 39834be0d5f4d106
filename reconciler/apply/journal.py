"""State written after every step: a writer that owns the current document, and the write-ahead Journal
a provider call receives (intent before the mutating call, the id the moment it is known)."""

from __future__ import annotations

import contextlib
import enum
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reconciler.actions import Action
from reconciler.errors import StateConflictError, StateError
from reconciler.state.backend import Backend
from reconciler.state.document import ResourceState, StateDoc
from reconciler.state.local import atomic_write


class StateWriter:
    """Holds the live state document and persists every change at once (atomic write per change).

    A refused write (StateConflictError: the lock was taken away, or the state moved) stops this writer:
    every later change is refused too, before any provider call (the journal writes ahead), and the
    document this run would have written is kept in `keep_dir` for a person or the next run to adopt.
    """

    def __init__(self, backend: Backend, doc: StateDoc, keep_dir: Path | None = None) -> None:
        self.backend = backend
        self.doc = doc
        self.keep_dir = keep_dir
        self.refused: StateConflictError | None = None

    def update(self, change: Callable[[StateDoc], StateDoc]) -> None:
        if self.refused is not None:
            raise self.refused
        wanted = change(self.doc)
        try:
            self.doc = self.backend.write(wanted)
        except StateConflictError as e:
            self.refused = StateConflictError(e.message + self._keep(wanted), hint=e.hint)
            raise self.refused from None

    def _keep(self, wanted: StateDoc) -> str:
        """Save what this run knew; returns the words that say where (or nothing)."""
        if self.keep_dir is None:
            return ""
        try:
            self.keep_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.keep_dir / f"refused-{wanted.lineage[:8]}-{int(time.time())}-{os.getpid()}.json"
            atomic_write(path, wanted.dumps())
        except OSError:
            return ""
        return f"; what this run had recorded ({len(wanted.resources)} resources) is kept in {_short(path)}"

    def put(self, res: ResourceState) -> None:
        self.update(lambda d: d.with_resource(res))

    def drop(self, address: str) -> None:
        self.update(lambda d: d.without(address))

    def get(self, address: str) -> ResourceState | None:
        return self.doc.resources.get(address)


class StepJournal:
    """The providers.base.Journal of one step."""

    def __init__(self, writer: StateWriter, address: str, type_: str, action: Action,
                 dependencies: tuple[str, ...], on_phase: Callable[[str], None]) -> None:
        self.writer = writer
        self.address = address
        self.type = type_
        self.action = action
        self.dependencies = dependencies
        self.on_phase = on_phase

    def _current(self) -> ResourceState:
        return self.writer.get(self.address) or ResourceState(self.address, self.type, None,
                                                               dependencies=self.dependencies)

    def intend(self, **data: Any) -> None:
        cur = self._current()
        pending = {"action": self.action.value, "started": time.time(), **dict(cur.pending or {}), **data}
        self.writer.put(replace(cur, pending=pending))

    def record(self, id: str, attributes: Mapping[str, Any], private: Mapping[str, Any] | None = None) -> None:
        cur = self._current()
        pending = dict(cur.pending or {"action": self.action.value})
        self.writer.put(replace(cur, id=id, attributes=dict(attributes),
                                private={**cur.private, **(private or {})}, pending=pending))

    def phase(self, name: str) -> None:
        self.on_phase(name)


def _short(path: Path) -> str:
    """`path` relative to the working directory when it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Outcome(enum.Enum):
    """How a step that left a pending record ended, for `show` and the next run (a kill -9 leaves none)."""

    FAILED = "failed"
    INTERRUPTED = "interrupted"


def mark_outcome(writer: StateWriter, address: str, outcome: Outcome) -> None:
    """Note on a step's pending record that it failed or was interrupted (best effort: the record stays)."""
    current = writer.get(address)
    if current is None or not current.pending or writer.refused is not None:
        return
    with contextlib.suppress(StateError):
        writer.put(replace(current, pending={**current.pending, "outcome": outcome.value}))


def pending_note(pending: Mapping[str, Any]) -> str:
    """What `show` says of a pending record."""
    action = pending.get("action", "step")
    outcome = pending.get("outcome")
    if outcome == Outcome.FAILED.value:
        return f"pending: the last {action} failed here; the next apply retries it"
    if outcome == Outcome.INTERRUPTED.value:
        return f"pending: the last {action} was interrupted; the next apply resumes it"
    return f"pending: an apply stopped midway in {action}; the next apply resumes it"
