"""Hetzner Cloud label selectors: parse `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`
(comma-separated, all must hold) and match them against an object's labels; used by the emulator's list
endpoints and by the provider to build the selector it sends.

As in Kubernetes, whose selector language the API follows, `k!=v` and `k notin (...)` also match objects
that do not carry `k` at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = ["LabelSelectorError", "Op", "Requirement", "matches", "parse", "render"]


class LabelSelectorError(ValueError):
    """A selector that does not parse; the message names the offending part."""


class Op(Enum):
    EQ = "="
    NE = "!="
    EXISTS = "exists"
    NOT_EXISTS = "!"
    IN = "in"
    NOTIN = "notin"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: Op
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op is Op.EXISTS:
            return present
        if self.op is Op.NOT_EXISTS:
            return not present
        if self.op is Op.EQ:
            return present and value == self.values[0]
        if self.op is Op.NE:
            return not present or value != self.values[0]
        if self.op is Op.IN:
            return present and value in self.values
        return not present or value not in self.values


_KEY = r"[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(rf"^{_KEY}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")
_SET_RE = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_CMP_RE = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|!=|=)\s*(?P<value>{_VALUE})$")


def _split(selector: str) -> list[str]:
    """Split at commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(selector):
        if ch == "(":
            depth += 1
            if depth > 1:
                raise LabelSelectorError(f"nested parentheses in label selector {selector!r}")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise LabelSelectorError(f"unbalanced ')' in label selector {selector!r}")
        elif ch == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    if depth != 0:
        raise LabelSelectorError(f"unbalanced '(' in label selector {selector!r}")
    parts.append(selector[start:])
    return parts


def _requirement(text: str) -> Requirement:
    part = text.strip()
    if not part:
        raise LabelSelectorError("empty requirement in label selector")
    m = _SET_RE.match(part)
    if m:
        values = tuple(v.strip() for v in m["values"].split(","))
        if not values or any(not _VALUE_RE.match(v) for v in values):
            raise LabelSelectorError(f"bad value list in {part!r}")
        return Requirement(m["key"], Op.IN if m["op"] == "in" else Op.NOTIN, values)
    m = _CMP_RE.match(part)
    if m:
        return Requirement(m["key"], Op.NE if m["op"] == "!=" else Op.EQ, (m["value"],))
    if part.startswith("!"):
        key = part[1:].strip()
        if _KEY_RE.match(key):
            return Requirement(key, Op.NOT_EXISTS)
    elif _KEY_RE.match(part):
        return Requirement(part, Op.EXISTS)
    raise LabelSelectorError(f"cannot parse {part!r} in label selector")


def parse(selector: str) -> tuple[Requirement, ...]:
    """The requirements of `selector`; an empty selector matches everything."""
    if not selector.strip():
        return ()
    return tuple(_requirement(p) for p in _split(selector))


def matches(requirements: Sequence[Requirement], labels: Mapping[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)


def render(labels: Mapping[str, str]) -> str:
    """An equality selector for every label in `labels`, in a stable order."""
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
