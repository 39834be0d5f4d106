"""State written after every step: a writer that owns the current document, and the write-ahead Journal
a provider call receives (intent before the mutating call, the id the moment it is known)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.actions import Action
from reconciler.state.backend import Backend
from reconciler.state.document import ResourceState, StateDoc


class StateWriter:
    """Holds the live state document and persists every change at once (atomic write per change)."""

    def __init__(self, backend: Backend, doc: StateDoc) -> None:
        self.backend = backend
        self.doc = doc

    def update(self, change: Callable[[StateDoc], StateDoc]) -> None:
        self.doc = self.backend.write(change(self.doc))

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
