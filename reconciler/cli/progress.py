"""Apply progress: a live rich table with one line per resource and its current phase on a terminal,
plain timestamped lines otherwise. Both are engine hooks; the engine never prints."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from reconciler.actions import Action
from reconciler.errors import ReconcilerError


def _short(error: BaseException) -> str:
    if isinstance(error, ReconcilerError):
        return "; ".join(error.lines())
    if isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
        return "stopped by Ctrl-C"
    return f"{type(error).__name__}: {error}"


class PlainProgress:
    """Timestamped lines. Inside an event loop they are written in bursts, at most `every` seconds apart (a
    write per line would hand the loop's thread to the apply's worker threads hundreds of times); leaving the
    `with` block, or a line outside a loop, writes what is held."""

    def __init__(self, stream: TextIO | None = None, every: float = 0.1) -> None:
        self.stream = stream or sys.stdout
        self.every = every
        self._held: list[str] = []
        self._due: asyncio.AbstractEventLoop | None = None  # the loop a burst is scheduled on
        self._second = -1  # the second `_clock` was formatted for (hundreds of lines share one)
        self._clock = ""

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def _say(self, text: str) -> None:
        now = int(time.time())
        if now != self._second:
            self._second, self._clock = now, time.strftime("%H:%M:%S", time.localtime(now))
        self._held.append(f"{self._clock} {text}\n")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._due is not loop:
            self._due = loop
            loop.call_later(self.every, self.flush)

    def flush(self) -> None:
        self._due = None
        if self._held:
            text, self._held = "".join(self._held), []
            self.stream.write(text)
            self.stream.flush()

    def pre_step(self, address: str, action: Action) -> None:
        self._say(f"{address}: {action.value} started")

    def on_phase(self, address: str, phase: str) -> None:
        self._say(f"{address}: {phase}")

    def post_step(self, address: str, action: Action, error: BaseException | None, seconds: float) -> None:
        if error is None:
            self._say(f"{address}: {action.value} done ({seconds:.1f}s)")
        else:
            self._say(f"{address}: {action.value} FAILED after {seconds:.1f}s: {_short(error)}")

    def on_skip(self, address: str, root_cause: str) -> None:
        self._say(f"{address}: skipped: upstream failed ({root_cause})")


class LiveProgress:
    """One row per resource: its action, its current phase and how long it has run."""

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = {}
        self.started: dict[str, float] = {}
        # get_renderable: the table is drawn anew at every refresh, so running steps' times keep counting
        self.live = Live(console=Console(), refresh_per_second=4, transient=False, get_renderable=self._table)

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.refresh()
        self.live.__exit__(None, None, None)

    def _table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("resource")
        table.add_column("action")
        table.add_column("phase")
        table.add_column("time", justify="right")
        for address, (action, phase) in sorted(self.rows.items()):
            took = time.monotonic() - self.started.get(address, time.monotonic())
            table.add_row(address, action, phase, f"{took:.0f}s" if address in self.started else "")
        return table

    def _set(self, address: str, action: str, phase: str) -> None:
        self.rows[address] = [action, phase]

    def pre_step(self, address: str, action: Action) -> None:
        self.started[address] = time.monotonic()
        self._set(address, action.value, "started")

    def on_phase(self, address: str, phase: str) -> None:
        self._set(address, self.rows.get(address, ["", ""])[0], phase)

    def post_step(self, address: str, action: Action, error: BaseException | None, seconds: float) -> None:
        self.started.pop(address, None)
        self._set(address, action.value, "done" if error is None else "FAILED: " + _short(error)[:80])

    def on_skip(self, address: str, root_cause: str) -> None:
        self._set(address, "-", f"skipped: upstream failed ({root_cause})")
