"""State written after every step: a writer that owns the current document, and the write-ahead Journal
a provider call receives (intent before the mutating call, the id the moment it is known).

Inside an event loop the writer commits in groups: every change is in the live document at once, and one
writer thread puts the newest document on disk whenever something changed since its last write, so two
hundred steps that change state at the same moment cost a few atomic writes instead of two hundred fsyncs
on the event loop. Write-ahead still holds: `await durable()` returns once everything changed before the
call is on disk (the runner awaits it before a step counts as done), and the `WriteAheadExecutor` the runner
gives the loop holds every blocking provider call (`asyncio.to_thread`) until the state changed before it was
submitted is on disk, so a journal's intent always reaches the disk before the request it announces leaves.
Outside a loop every change is written at once.

Every write is a compare-and-swap against the document this writer last wrote (or read). A refused write
(StateConflictError: the lock was taken away, or the state moved) stops this writer: every later change is
refused too, before any provider call (the journal writes ahead), and the document this run would have
written is kept in `keep_dir` for a person or the next run to adopt.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from reconciler.actions import Action
from reconciler.errors import StateConflictError, StateError
from reconciler.state.backend import Backend
from reconciler.state.document import ResourceState, StateDoc
from reconciler.state.local import atomic_write


class StateWriter:
    """Holds the live state document and persists every change (atomic writes, grouped inside a loop)."""

    def __init__(self, backend: Backend, doc: StateDoc, keep_dir: Path | None = None) -> None:
        self.backend = backend
        self.doc = doc
        self.keep_dir = keep_dir
        self.refused: StateConflictError | None = None
        self._base = doc  # what the stored state is, as far as this writer knows: what it last wrote or read
        self._changed = 0  # generation of the newest change
        self._written = 0  # generation of the newest document on disk
        self._error: BaseException | None = None
        self._lock = threading.Lock()  # one backend write at a time, whichever thread asks
        self._executor: ThreadPoolExecutor | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._on_disk = threading.Condition()  # for threads waiting on a write (WriteAheadExecutor)

    def update(self, change: Callable[[StateDoc], StateDoc]) -> None:
        if self.refused is not None:
            raise self.refused
        self.doc = change(self.doc)
        self._changed += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush_loop())

    @property
    def changed(self) -> int:
        """The generation of the newest change (what `wait_on_disk` waits for)."""
        return self._changed

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

    def _write(self, doc: StateDoc, generation: int) -> StateDoc | None:
        """Runs in the writer thread (or the caller's): the document as written, or None if already newer."""
        with self._lock:
            if generation <= self._written:
                return None
            try:
                written = self.backend.write(doc, base=self._base)
                self._base = written
            except StateConflictError as e:
                self.refused = StateConflictError(e.message + self._keep(doc), hint=e.hint)
                with self._on_disk:
                    self._error = self.refused
                    self._on_disk.notify_all()
                raise self.refused from None
            except Exception as e:
                with self._on_disk:
                    self._error = e
                    self._on_disk.notify_all()
                raise
            with self._on_disk:
                self._written = generation
                self._on_disk.notify_all()
            return written

    def wait_on_disk(self, generation: int) -> None:
        """Block this (worker) thread until the changes up to `generation` are on disk."""
        with self._on_disk:
            while self._written < generation and self._error is None:
                self._on_disk.wait()
            if self._written < generation and self._error is not None:
                raise self._error

    def flush(self) -> None:
        """Write whatever is not on disk yet, now, in this thread (raises what the backend raises)."""
        if self._error is not None:
            raise self._error
        doc = self.doc
        written = self._write(doc, self._changed)
        if written is not None and self.doc is doc:
            self.doc = written  # carries the serial the backend gave it

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-writer")
        while self._written < self._changed and self._error is None:
            doc, generation = self.doc, self._changed
            try:
                await loop.run_in_executor(self._executor, self._write, doc, generation)
            except Exception as e:  # every step waiting for this write learns of it
                self._error = e
            self._wake()

    def _wake(self) -> None:
        keep = []
        for generation, future in self._waiters:
            if future.done():
                continue
            if self._error is not None:
                future.set_exception(self._error)
            elif generation <= self._written:
                future.set_result(None)
            else:
                keep.append((generation, future))
        self._waiters = keep

    async def durable(self) -> None:
        """Wait until every change made so far is on disk."""
        if self._error is not None:
            raise self._error
        if self._written >= self._changed:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((self._changed, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())
        await future

    def close(self) -> None:
        """Write what is left (after an interrupted walk too) and stop the writer thread."""
        try:
            if self.refused is None:  # a refused writer has said so for every step; nothing more may be written
                self.flush()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None


class WriteAheadExecutor(ThreadPoolExecutor):
    """The apply loop's default executor: a call submitted after a state change starts only once that change is
    on disk (a provider's `journal.intend(...)` then `await asyncio.to_thread(post, ...)` is write-ahead)."""

    def __init__(self, writer: StateWriter, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="apply-step")
        self.writer = writer

    def warm(self, threads: int) -> None:
        """Start up to `threads` worker threads now, before the steps' calls: started on demand, each would
        hand the event loop's thread to a new thread in the middle of the steps' first calls."""
        count = min(threads, self._max_workers)
        if count < 1:
            return
        gate = threading.Barrier(count)  # each start-up call holds its thread until all are running

        def hold() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait(1.0)

        for _ in range(count):
            super().submit(hold)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        writer, generation = self.writer, self.writer.changed

        def after_write() -> Any:
            writer.wait_on_disk(generation)
            return fn(*args, **kwargs)

        return super().submit(after_write)


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
