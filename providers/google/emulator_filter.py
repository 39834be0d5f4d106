"""The `filter` expression and paging of Compute Engine list calls, for the emulator: comparisons `field = "v"`,
`field != v`, `field : v` (`:*` tests presence) and the legacy `field eq regex` / `ne`, joined by `AND`
(or plain juxtaposition), `OR`, `NOT` and parentheses, evaluated against a resource's JSON form.

Field paths are dotted (`labels.managed-by`, `scheduling.preemptible`); a comparison on a missing field is
false. Malformed filters raise `FilterError`, which the emulator answers with 400 like the real API.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from providers.google.emulator_errors import ApiError, invalid

Predicate = Callable[[Mapping[str, Any]], bool]
MAX_PAGE = 500

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>!=|=|:)|(?P<word>[^\s()"=!:]+))')


class FilterError(ValueError):
    """The filter expression cannot be parsed."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise FilterError(f"Invalid filter expression near {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = m.end()
    return out


def _lookup(resource: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = resource
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _comparison(field: str, op: str, literal: str) -> Predicate:
    pattern = re.compile("")
    if op in ("eq", "ne"):
        try:
            pattern = re.compile(literal)
        except re.error as e:
            raise FilterError(f"Invalid regular expression {literal!r}: {e}") from e
    def test(resource: Mapping[str, Any]) -> bool:
        present, value = _lookup(resource, field)
        if op == ":":
            if literal == "*":
                return present
            if not present:
                return False
            if isinstance(value, list):
                return any(_text(v) == literal for v in value)
            return literal in _text(value)
        if not present:
            return op in ("!=", "ne")
        if op in ("eq", "ne"):
            matched = pattern.fullmatch(_text(value)) is not None
            return matched if op == "eq" else not matched
        return (_text(value) == literal) == (op == "=")

    return test


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise FilterError("Invalid filter expression: unexpected end")
        self.pos += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.disjunction()
        if self.peek() is not None:
            raise FilterError(f"Invalid filter expression near {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek() == ("word", "OR"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while (tok := self.peek()) is not None and tok != ("rp", ")") and tok != ("word", "OR"):
            if tok == ("word", "AND"):
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        kind, value = self.take()
        if (kind, value) == ("word", "NOT") or (kind == "word" and value == "-"):
            inner = self.unary()
            return lambda r: not inner(r)
        if kind == "lp":
            inner = self.disjunction()
            if self.take() != ("rp", ")"):
                raise FilterError("Invalid filter expression: missing ')'")
            return inner
        if kind != "word":
            raise FilterError(f"Invalid filter expression near {value!r}")
        negate = value.startswith("-")
        field = value[1:] if negate else value
        op_kind, op = self.take()
        if not (op_kind == "op" or (op_kind == "word" and op in ("eq", "ne"))):
            raise FilterError(f"Invalid filter expression: expected a comparison after {field!r}")
        lit_kind, literal = self.take()
        if lit_kind not in ("str", "word"):
            raise FilterError(f"Invalid filter expression: expected a value after {field} {op}")
        pred = _comparison(field, op, literal)
        return (lambda r: not pred(r)) if negate else pred


def compile_filter(text: str | None) -> Predicate:
    """A predicate over a resource's JSON form; an empty filter matches everything."""
    if not text or not text.strip():
        return lambda _r: True
    return _Parser(_tokens(text)).parse()


def page(items: list[dict[str, Any]], filter_: str | None, max_results: int | None,
         token: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Filter, then cut one page; the token carries the offset and the filter it belongs to."""
    try:
        predicate = compile_filter(filter_)
    except FilterError as e:
        raise invalid("filter", filter_, f"Invalid list filter expression. {e}") from e
    if max_results is not None and not 0 <= max_results <= MAX_PAGE:
        raise invalid("maxResults", max_results, f"Must be less than or equal to {MAX_PAGE}.")
    size = MAX_PAGE if not max_results else min(int(max_results), MAX_PAGE)
    offset = 0
    if token:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset, token_filter = int(data["o"]), data["f"]
        except (ValueError, KeyError, TypeError) as e:
            raise ApiError(400, "Invalid value for field 'pageToken': '" + token + "'.", "invalid") from e
        if token_filter != (filter_ or ""):
            raise ApiError(400, "The page token does not belong to this filter.", "invalid")
    matched = [i for i in items if predicate(i)]
    chunk = matched[offset:offset + size]
    next_token = None
    if offset + size < len(matched):
        next_token = base64.urlsafe_b64encode(json.dumps({"o": offset + size, "f": filter_ or ""}).encode())
    return chunk, next_token.decode() if next_token else None
