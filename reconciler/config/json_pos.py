"""Lazy source positions for Terraform JSON files: the line is found only when someone asks for it.

The C `json` module reports no positions, and computing a line for each of the ~10^5 values of a big
terranix file would cost more than parsing it. So a node from a JSON file carries a JsonPos: the file's
text and the JSON path of the value. Reading `.line` (only error paths do) walks that path once in the
text, skipping sibling values with the C scanner, and caches the answer.
"""

from __future__ import annotations

import bisect
import json
from typing import Any

from reconciler.config.gcpause import gc_paused
from reconciler.errors import SourcePos

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()
_scan_once = _DECODER.scan_once  # type: ignore[attr-defined]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


class JsonDocument:
    """One JSON file's text, with a cache of line numbers by JSON path."""

    def __init__(self, display: str, text: str) -> None:
        self.display = display
        self.text = text
        self._line_starts: list[int] | None = None
        self._offsets: dict[tuple[Any, ...], int] = {(): self._skip_ws(0)}  # path -> offset of its value
        self._key_offsets: dict[tuple[Any, ...], int] = {}  # path -> offset of its key (or array element)

    def line_of_offset(self, offset: int) -> int:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return bisect.bisect_right(self._line_starts, offset)

    def _skip_ws(self, i: int) -> int:
        text = self.text
        n = len(text)
        while i < n and text[i] in _WS:
            i += 1
        return i

    def _child(self, start: int, key: Any) -> tuple[int, int] | None:
        """(offset of the key or element, offset of its value) for `key` of the container at `start`."""
        text = self.text
        i = self._skip_ws(start + 1)
        found: tuple[int, int] | None = None
        if text[start] == "{":
            while i < len(text) and text[i] == '"':
                key_at = i
                name, i = _scanstring(text, i + 1)
                i = self._skip_ws(i)
                i = self._skip_ws(i + 1)  # the colon
                if name == key:
                    found = (key_at, i)  # keep looking: the last duplicate wins, as in json.loads
                _, i = _scan_once(text, i)
                i = self._skip_ws(i)
                if i < len(text) and text[i] == ",":
                    i = self._skip_ws(i + 1)
            return found
        if text[start] == "[" and isinstance(key, int):
            index = 0
            while i < len(text) and text[i] != "]":
                if index == key:
                    return (i, i)
                _, i = _scan_once(text, i)
                i = self._skip_ws(i)
                if i < len(text) and text[i] == ",":
                    i = self._skip_ws(i + 1)
                index += 1
        return None

    def line(self, path: tuple[Any, ...]) -> int:
        """The line of the key (or array element) at `path`; the nearest ancestor's if the path is bad."""
        offset = self._value_offset(path)
        return self.line_of_offset(self._key_offsets.get(path, offset))

    def _value_offset(self, path: tuple[Any, ...]) -> int:
        known = self._offsets.get(path)
        if known is not None:
            return known
        if not path:
            return 0
        parent = self._value_offset(path[:-1])
        try:
            child = self._child(parent, path[-1])
        except (ValueError, IndexError, StopIteration):
            child = None
        if child is None:
            self._offsets[path] = parent
            return parent
        self._key_offsets[path] = child[0]
        self._offsets[path] = child[1]
        return child[1]


class JsonPos(SourcePos):
    """A SourcePos whose line is computed on first use from its JSON path.

    A node is (parent position, key); the root's parent is the JsonDocument. No path tuple and no
    instance dict are built, so a position costs one small object while the file loads.
    """

    __slots__ = ("_key", "_line", "_parent")
    _key: Any
    _line: int
    _parent: JsonPos | JsonDocument

    def __init__(self, parent: JsonPos | JsonDocument, key: Any) -> None:
        _set_parent(self, parent)
        _set_key(self, key)

    def _root(self) -> tuple[JsonDocument, tuple[Any, ...]]:
        keys: list[Any] = []
        node: JsonPos | JsonDocument = self
        while isinstance(node, JsonPos):
            keys.append(node._key)
            node = node._parent
        keys.pop()  # the root position's own key (None)
        keys.reverse()
        return node, tuple(keys)

    @property
    def file(self) -> str:
        return self._root()[0].display

    @property
    def line(self) -> int:
        try:
            return int(self._line)
        except AttributeError:
            doc, path = self._root()
            with gc_paused():
                line = doc.line(path)
            _set_line(self, line)
            return line

    def __reduce__(self) -> tuple[Any, ...]:
        return (SourcePos, (self.file, self.line))


# the slots' own setters: a frozen dataclass's __setattr__ is bypassed, and they are fast
_set_parent = vars(JsonPos)["_parent"].__set__
_set_key = vars(JsonPos)["_key"].__set__
_set_line = vars(JsonPos)["_line"].__set__


def root_pos(doc: JsonDocument) -> JsonPos:
    """The position of a document's top-level value."""
    return JsonPos(doc, None)
