"""Bounds on what hostile or mistaken input may ask for, in one place, so that it fails with a clear line
instead of a hang, a memory blow-up or a RecursionError.

`count`/`for_each` instances (configurable through `RECONCILER_MAX_INSTANCES`), nesting depth of source
text and of decoded JSON values, `file()` size and type, `format()` widths, and how much of a value an error
line may echo (`clip`). Every limit is a plain constant here; the modules that enforce them import it.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, SourcePos

DEFAULT_MAX_INSTANCES = 100_000
MAX_NESTING = 100  # brackets, braces and parentheses in a source file; levels of a decoded JSON value
MAX_FILE_BYTES = 16 * 1024 * 1024  # file(), templatefile() and friends
MAX_FORMAT_WIDTH = 10_000  # format("%10000000000d") would allocate gigabytes
MAX_NUMBER_DIGITS = 4_000  # Python refuses int <-> str past 4,300 digits
MAX_STRING_SHOWN = 40  # characters of a value an error line echoes before "..."
MAX_ERROR_LINE = 600  # characters of one error line


def max_instances() -> int:
    """The most instances one `count`/`for_each` may make (`RECONCILER_MAX_INSTANCES`, default 100,000)."""
    raw = os.environ.get("RECONCILER_MAX_INSTANCES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_INSTANCES


# what a terminal or str.splitlines() takes as a line break, or should not see raw in one error line
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def _escape(text: str) -> str:
    return _CONTROL.sub(lambda m: {"\n": "\\n", "\r": "\\r"}.get(m.group(), f"\\x{ord(m.group()):02x}"
                                                                     if ord(m.group()) < 256 else
                                                                     f"\\u{ord(m.group()):04x}"), text)


def clip(value: Any, limit: int = MAX_STRING_SHOWN) -> str:
    """`value` as text for an error line: one line, at most `limit` characters, then "..."."""
    text = _escape(value if isinstance(value, str) else repr(value))
    return text if len(text) <= limit else text[:limit] + "..."


_LONG_QUOTED = re.compile(r'"([^"]{' + str(MAX_STRING_SHOWN + 1) + r',})"')


def one_line(line: str) -> str:
    """An error line made safe to print: no newlines, long quoted values clipped, the whole line bounded."""
    line = _escape(line)
    if len(line) > MAX_ERROR_LINE:
        line = _LONG_QUOTED.sub(lambda m: '"' + clip(m.group(1)) + '"', line)
    if len(line) > MAX_ERROR_LINE:
        line = line[:MAX_ERROR_LINE] + "..."
    return line


# skip single-line strings and comments; count the brackets that are left
_BRACKETS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|//[^\n]*|[\[\]{}()]')
_OPEN = frozenset("[{(")
_CLOSE = frozenset("]})")


def too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The 1-based line where `text` nests brackets deeper than `limit`, or None (a bounded, flat scan)."""
    depth = 0
    for m in _BRACKETS.finditer(text):
        tok = m.group()
        if tok in _OPEN:
            depth += 1
            if depth > limit:
                return text.count("\n", 0, m.start()) + 1
        elif tok in _CLOSE:
            depth = max(0, depth - 1)
    return None


def value_depth_exceeds(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether a decoded JSON value nests deeper than `limit` (checked without recursion). json.loads makes
    exactly dicts and lists, so their types are compared directly (a third faster than isinstance on 20,000
    state entries)."""
    containers = (dict, list)
    level = [value] if type(value) in containers else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [c for item in level for c in (item.values() if type(item) is dict else item)
                 if type(c) in containers]
    return False


def read_bounded(path: Path, name: str) -> str:
    """A regular file's UTF-8 text, refused (ValueProblem) past MAX_FILE_BYTES or if it is not a regular file
    (a device such as /dev/zero, a FIFO, a directory)."""
    from reconciler.config.valueops import ValueProblem

    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise ValueProblem(f'"{clip(name)}" is not a regular file')
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueProblem(f'"{clip(name)}" is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB')
    return data.decode("utf-8")


def check_width(width: str | None, precision: str | None) -> None:
    """A format() verb's width and precision (digits as written), refused past MAX_FORMAT_WIDTH."""
    from reconciler.config.valueops import ValueProblem

    for what, digits in (("width", width), ("precision", precision)):
        if digits and (len(digits) > 6 or int(digits) > MAX_FORMAT_WIDTH):
            raise ValueProblem(f"a {what} of {clip(digits, 12)} is more than {MAX_FORMAT_WIDTH:,}")


def nesting_error(text: str, display: str) -> ConfigError | None:
    """A ConfigError naming the line where `text` nests deeper than MAX_NESTING, or None."""
    line = too_deep(text)
    if line is None:
        return None
    return ConfigError(f"nested more than {MAX_NESTING} levels deep (brackets, braces or parentheses)",
                       SourcePos(display, line), hint="flatten the value or split it into locals")
