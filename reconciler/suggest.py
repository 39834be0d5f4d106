"""Did-you-mean for a wrong name: the closest of the names it could have been.

difflib is imported on the first wrong name, not by every command at start-up."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, options: Iterable[str], n: int = 1) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, list(options), n=n)


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """`did you mean "x"?` for the closest option, or None when nothing is close."""
    close = closest(name, options)
    return f'did you mean "{close[0]}"?' if close else None


def suffix(name: str, options: Iterable[str]) -> str:
    """`; did you mean "x"?`, to end a message with, or "" when nothing is close."""
    found = did_you_mean(name, options)
    return f"; {found}" if found else ""
