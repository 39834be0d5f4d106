"""Lazy source positions for Terraform JSON files: the line is found only when someone asks for it.

The C `json` module reports no positions, and computing a line for each of the ~10^5 values of a big
terranix file would cost more than parsing it. So a node from a JSON file carries a JsonPos: its parent's
position and its key. Reading `.line` (only error paths do) walks that JSON path in the text, recording
the offsets of each container's members in one pass that skips values with the C scanner, and caches
them, so many errors in one file still cost about one pass over it.
"""

from __future__ import annotations

import bisect
import contextlib
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
        self._indexed: set[tuple[Any, ...]] = set()  # containers whose members are recorded

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

    def _index_children(self, path: tuple[Any, ...], start: int) -> None:
        """Record the key and value offsets of every member of the container at `start` (one C-speed pass)."""
        text = self.text
        n = len(text)
        i = self._skip_ws(start + 1)
        keys, values = self._key_offsets, self._offsets
        if text[start] == "{":
            while i < n and text[i] == '"':
                key_at = i
                name, i = _scanstring(text, i + 1)
                i = self._skip_ws(self._skip_ws(i) + 1)  # past the colon
                keys[(*path, name)] = key_at  # a later duplicate overwrites: the last one wins, as in json.loads
                values[(*path, name)] = i
                _, i = _scan_once(text, i)
                i = self._skip_ws(i)
                if i < n and text[i] == ",":
                    i = self._skip_ws(i + 1)
        elif text[start] == "[":
            index = 0
            while i < n and text[i] != "]":
                keys[(*path, index)] = values[(*path, index)] = i
                _, i = _scan_once(text, i)
                i = self._skip_ws(i)
                if i < n and text[i] == ",":
                    i = self._skip_ws(i + 1)
                index += 1

    def line(self, path: tuple[Any, ...]) -> int:
        """The line of the key (or array element) at `path`; the nearest ancestor's if the path is bad."""
        offset = self._value_offset(path)
        return self.line_of_offset(self._key_offsets.get(path, offset))

    def _value_offset(self, path: tuple[Any, ...]) -> int:
        """Walk down from the deepest known ancestor, indexing each container once (no recursion, so a path
        as deep as the JSON itself costs a loop, not a stack)."""
        known = self._offsets.get(path)
        if known is not None:
            return known
        depth = len(path)
        while depth > 0 and path[:depth] not in self._offsets:
            depth -= 1
        offset = self._offsets.get(path[:depth], 0)
        for i in range(depth, len(path)):
            parent_path = path[:i]
            if parent_path not in self._indexed:
                self._indexed.add(parent_path)
                # text that json.loads accepted always scans; if not, the parent's line is the answer
                with contextlib.suppress(ValueError, IndexError, StopIteration):
                    self._index_children(parent_path, offset)
            offset = self._offsets.setdefault(path[:i + 1], offset)
        return offset


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
