"""Printing: plain text, or colour through rich on a terminal; errors as one short line each."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.config.limits import one_line

if TYPE_CHECKING:
    from rich.console import Console


def _console(**kwargs: Any) -> Console:
    from rich.console import Console  # only on a terminal: plain output never pays for importing rich

    return Console(highlight=False, soft_wrap=True, **kwargs)


class Out:
    def __init__(self, color: bool) -> None:
        self.color = color and sys.stdout.isatty()
        self.console = _console() if self.color else None
        self.err_console = _console(stderr=True) if color and sys.stderr.isatty() else None

    def lines(self, styled: Iterable[tuple[str, str]]) -> None:
        if self.console is None:  # written in chunks: a 10,000-machine plan is never one string
            chunk: list[str] = []
            for _, line in styled:
                chunk.append(line)
                if len(chunk) >= 4096:
                    sys.stdout.write("\n".join(chunk) + "\n")
                    chunk.clear()
            if chunk:
                sys.stdout.write("\n".join(chunk) + "\n")
            return
        from rich.text import Text

        text = Text()
        for style, line in styled:
            text.append(line + "\n", style=style or None)
        self.console.print(text, end="")

    def text(self, text: str) -> None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")

    def error(self, line: str) -> None:
        line = one_line(line)  # never echo a megabyte of input, nor a value's newlines
        if self.err_console is not None:
            from rich.text import Text

            self.err_console.print(Text("error: ", style="bold red") + Text(line))
        else:
            sys.stderr.write(f"error: {line}\n")

    def warn(self, line: str) -> None:
        line = one_line(line)
        if self.err_console is not None:
            from rich.text import Text

            self.err_console.print(Text("warning: ", style="bold yellow") + Text(line))
        else:
            sys.stderr.write(f"warning: {line}\n")
