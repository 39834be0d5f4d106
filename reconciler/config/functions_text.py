"""Terraform's string functions: case mapping per character as Go does it, lengths and substrings in
grapheme clusters (the `regex` library's \\X), trimming, and the regular-expression functions.

Regular expressions: Terraform uses Go's RE2 syntax; Python's `re` reads the same syntax for what fleet
configs use (classes, groups, `(?P<name>...)`, anchors, repetition); RE2's `\\z` is translated to `\\Z`.
Python accepts a few things RE2 refuses (backreferences, lookaround), which we then accept too.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from reconciler.config.functions_common import as_int, as_string
from reconciler.config.valueops import ValueProblem


@functools.cache
def _grapheme() -> Any:
    import regex  # 20 ms to import: only the functions that count or cut characters pay for it

    return regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    if text.isascii():  # every ASCII character but CR LF is a cluster of its own
        return _grapheme().findall(text) if "\r\n" in text else list(text)
    found: list[str] = _grapheme().findall(text)
    return found


def length_of_string(text: str) -> int:
    return len(graphemes(text))


def _per_char(text: str, how: str) -> str:
    out = []
    for c in text:
        mapped = getattr(c, how)()
        out.append(mapped if len(mapped) == 1 else c)  # Go maps one rune to one rune (ß stays ß)
    return "".join(out)


def upper(_: Path, text: Any) -> Any:
    return _per_char(as_string(text, "the argument"), "upper")


def lower(_: Path, text: Any) -> Any:
    return _per_char(as_string(text, "the argument"), "lower")


def _separator(c: str) -> bool:
    if c.isascii():
        return not (c.isalnum() or c == "_")
    return not c.isalnum() and c.isspace()


def title(_: Path, text: Any) -> Any:
    s = as_string(text, "the argument")
    out, prev = [], " "
    for c in s:
        t = c.title() if _separator(prev) else c
        out.append(t if len(t) == 1 else c)
        prev = c
    return "".join(out)


def substr(_: Path, text: Any, offset: Any, length: Any) -> Any:
    chars = graphemes(as_string(text, "the string"))
    off, n = as_int(offset, "the offset"), as_int(length, "the length")
    if off < 0:
        off += len(chars)
        if off < 0:
            raise ValueProblem("offset cannot be larger than the length of the string")
    if off > len(chars):
        raise ValueProblem("offset cannot be larger than the length of the string")
    if n == -1:
        return "".join(chars[off:])
    if n < 0:
        end = len(chars) + n
        if end < off:
            raise ValueProblem("length cannot be smaller than -1")
        return "".join(chars[off:end])
    return "".join(chars[off:off + n])


def strrev(_: Path, text: Any) -> Any:
    return "".join(reversed(graphemes(as_string(text, "the argument"))))


def trimspace(_: Path, text: Any) -> Any:
    return as_string(text, "the argument").strip()


def trim(_: Path, text: Any, cutset: Any) -> Any:
    return as_string(text, "the string").strip(as_string(cutset, "the characters"))


def trimprefix(_: Path, text: Any, prefix: Any) -> Any:
    return as_string(text, "the string").removeprefix(as_string(prefix, "the prefix"))


def trimsuffix(_: Path, text: Any, suffix: Any) -> Any:
    return as_string(text, "the string").removesuffix(as_string(suffix, "the suffix"))


def startswith(_: Path, text: Any, prefix: Any) -> Any:
    return as_string(text, "the string").startswith(as_string(prefix, "the prefix"))


def endswith(_: Path, text: Any, suffix: Any) -> Any:
    return as_string(text, "the string").endswith(as_string(suffix, "the suffix"))


def strcontains(_: Path, text: Any, sub: Any) -> Any:
    return as_string(sub, "the substring") in as_string(text, "the string")


def chomp(_: Path, text: Any) -> Any:
    return re.sub(r"(?:\r\n|\r|\n)+\Z", "", as_string(text, "the argument"))


def indent(_: Path, spaces: Any, text: Any) -> Any:
    pad = " " * as_int(spaces, "the number of spaces")
    lines = as_string(text, "the string").split("\n")
    return "\n".join([lines[0], *(pad + line for line in lines[1:])])


def compile_re2(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern.replace(r"\z", r"\Z"))
    except re.error as e:
        raise ValueProblem(f"invalid regular expression pattern: {e}") from None


def _match_value(rx: re.Pattern[str], m: re.Match[str]) -> Any:
    names = rx.groupindex
    if rx.groups == 0:
        return m.group(0)
    if names:
        if len(names) != rx.groups:
            raise ValueProblem("invalid regular expression pattern: named and unnamed capture groups "
                               "cannot be mixed")
        return {k: m.group(k) if m.group(k) is not None else None for k in names}
    return list(m.groups())


def regex_(_: Path, pattern: Any, text: Any) -> Any:
    rx = compile_re2(as_string(pattern, "the pattern"))
    m = rx.search(as_string(text, "the string"))
    if m is None:
        raise ValueProblem("pattern did not match any part of the given string")
    return _match_value(rx, m)


def regexall(_: Path, pattern: Any, text: Any) -> Any:
    rx = compile_re2(as_string(pattern, "the pattern"))
    return [_match_value(rx, m) for m in rx.finditer(as_string(text, "the string"))]


_GO_EXPAND = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")


def _go_expand(template: str, m: re.Match[str]) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar; an unknown group is empty."""
    def one(g: re.Match[str]) -> str:
        name = g.group(1) or g.group(2)
        if name is None:
            return "$"
        try:
            value = m.group(int(name)) if name.isdigit() else m.group(name)
        except IndexError:
            return ""
        return value or ""

    return _GO_EXPAND.sub(one, template)



def replace(_: Path, text: Any, search: Any, repl: Any) -> Any:
    s, find, rep = as_string(text, "the string"), as_string(search, "the substring"), as_string(repl, "the replacement")
    if len(find) > 1 and find.startswith("/") and find.endswith("/"):
        rx = compile_re2(find[1:-1])
        return rx.sub(lambda m: _go_expand(rep, m), s)
    return s.replace(find, rep)


def formatlist(_: Path, spec: Any, *args: Any) -> Any:
    from reconciler.config.formatting import go_format

    fmt = as_string(spec, "the format")
    n = None
    for i, a in enumerate(args, 2):
        if isinstance(a, (list, tuple)):
            if n is not None and len(a) != n:
                raise ValueProblem(f"argument {i} has length {len(a)}, which is inconsistent with argument "
                                   f"lengths of {n}")
            n = len(a)
    if n is None:
        return [go_format(fmt, list(args))]
    return [go_format(fmt, [a[i] if isinstance(a, (list, tuple)) else a for a in args]) for i in range(n)]
