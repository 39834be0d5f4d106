"""Ctrl-C outside an apply's walk: one line and exit 1 at once, never a traceback, never a hang.

Outside the walk nothing of ours is half done that a prompt exit could hurt: refreshes only read, and state
and vars writes are atomic renames. Raising KeyboardInterrupt instead would let asyncio wait for provider
threads blocked in network calls (a hang until their timeout) and print a traceback from the interpreter's
shutdown. During the walk the apply's own handler takes over (first press: start nothing new; second: stop
the running steps, each recorded as interrupted) and gives this one back afterwards.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

_state = {"announced": False}  # a line about the interrupt was already printed


def announced() -> None:
    """The apply printed its own lines about the interrupt; a later press exits without another one."""
    _state["announced"] = True


def exit_now(signum: int = signal.SIGINT, frame: FrameType | None = None) -> None:
    with_line = not _state["announced"]
    try:
        sys.stdout.flush()
        if with_line:
            sys.stderr.write("error: interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(1)


def _ignore_from_now() -> None:
    """At exit (after the interpreter joined its threads): the interpreter's teardown resets handlers to
    the default, under which one more press would kill the process by SIGINT; ignore it instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def install() -> Callable[[int, FrameType | None], Any] | int | None:
    """Make Ctrl-C exit at once; returns the handler it replaced (to restore for in-process callers)."""
    if not _state.get("atexit"):
        atexit.register(_ignore_from_now)
        _state["atexit"] = True
    _state["announced"] = False
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, exit_now)
    return previous
