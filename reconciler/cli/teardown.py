"""How the CLI's process ends: without freeing, one object at a time, what the command built.

A plan of 10,000 machines is millions of objects. Freeing them one by one when the command's frame returned
took most of the 0.15-0.19 s between such a plan printed and its process gone (0.02-0.03 s now, five runs
each). So a command hands what it built to `keep`, and the process entry (`run`, used by
`python -m reconciler` and the `reconciler` script) ends a command that completed (exit 0, or 2 for
`--detailed-exitcode`) with `os._exit`, after the exit handlers ran and the output was flushed, as mypy ends
its runs. The exit handlers are what must happen before a process ends: the schema verdicts are saved, a
`nix eval` still running is stopped, decrypted secrets are wiped.

A command that failed or was interrupted ends the ordinary way: worker threads it left behind are joined
first, exactly as without this module. An in-process caller (`main(argv)`, the tests) gets what was kept
released when the command returns.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn

COMPLETED = (0, 2)  # the exit codes of a command that finished everything it started

_kept: list[object] = []


def keep(*values: object) -> None:
    """Hold `values` until the process ends (or `release`), so returning from the command frees nothing."""
    _kept.extend(values)


def release() -> None:
    _kept.clear()


def end(code: int) -> NoReturn:
    """Leave the process with `code`; without teardown when the command completed."""
    if code not in COMPLETED:
        release()
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: exit 120, as the interpreter's own exit does
            code = 120
    os._exit(code)
