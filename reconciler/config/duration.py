"""Go's duration strings (`time.ParseDuration`), as Terraform providers type their intervals: "500ms",
"1.5s", "1h15m". Used for hcloud's `poll_interval`; a plain number is read as seconds."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_UNITS = {"ns": Decimal("1e-9"), "us": Decimal("1e-6"), "µs": Decimal("1e-6"), "μs": Decimal("1e-6"),
          "ms": Decimal("1e-3"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
DURATION_PATTERN = r"^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$"


class BadDuration(ValueError):
    """Not a Go duration string; the message says what one looks like."""


def seconds(value: Any) -> float:
    """A duration string ("500ms") or a number of seconds, as seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text == "0":
        return 0.0
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    pos, total = 0, Decimal(0)
    for m in _PART.finditer(body):
        if m.start() != pos:
            break
        try:
            total += Decimal(m.group(1)) * _UNITS[m.group(2)]
        except InvalidOperation:
            break
        pos = m.end()
    if pos != len(body) or not body:
        raise BadDuration(f'"{text}" is not a duration; write a number with a unit, e.g. "500ms", "2s" or "1m30s"')
    return float(sign * total)
