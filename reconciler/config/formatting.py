"""Terraform's `format()` verbs (Go fmt style): %s %d %f %e %E %g %G %x %X %o %b %v %q %t %%, with flags,
width, precision and %[n]."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.config.limits import check_width
from reconciler.config.valueops import ValueProblem, describe, json_encode, to_bool, to_number, to_string

_VERB = re.compile(r"%(?P<flags>[-+ 0#]*)(?:\[(?P<index>\d+)\])?(?P<width>\d+)?(?:\.(?P<prec>\d*))?(?P<verb>.?)",
                   re.S)


def _pad(text: str, flags: str, width: int | None, numeric: bool) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and numeric:
        sign = text[0] if text and text[0] in "+- " else ""
        return sign + text[len(sign):].rjust(width - len(sign), "0")
    return text.rjust(width)


def _sign(text: str, flags: str) -> str:
    if not text.startswith("-"):
        if "+" in flags:
            return "+" + text
        if " " in flags:
            return " " + text
    return text


def _one(verb: str, flags: str, prec: str | None, value: Any) -> tuple[str, bool]:
    """The text of one verb and whether it is numeric (for zero padding)."""
    if verb == "s":
        if value is None:
            raise ValueProblem("null cannot be formatted")
        text = to_string(value)
        return (text[: int(prec or 0)] if prec is not None else text), False
    if verb == "v":
        if value is None:
            return "null", False
        if isinstance(value, (list, dict)):
            return json_encode(value), False
        return to_string(value), False
    if verb == "q":
        if value is None:
            raise ValueProblem("null cannot be formatted")
        return json.dumps(to_string(value), ensure_ascii=False), False
    if verb == "t":
        return ("true" if to_bool(value) else "false"), False
    if verb == "d":
        n = to_number(value)
        if not isinstance(n, int):
            raise ValueProblem(f"a whole number is required, got {describe(value)}")
        return _sign(str(n), flags), True
    if verb == "f":
        n = to_number(value)
        digits = 6 if prec is None else int(prec or 0)
        return _sign(f"{float(n):.{digits}f}", flags), True
    if verb in "xXob":
        n = to_number(value)
        if not isinstance(n, int):
            raise ValueProblem(f"a whole number is required, got {describe(value)}")
        text = format(abs(n), verb)
        if "#" in flags and verb != "b":
            text = {"x": "0x", "X": "0X", "o": "0"}[verb] + text
        return _sign(("-" if n < 0 else "") + text, flags), True
    if verb in "eE":
        n = to_number(value)
        digits = 6 if prec is None else int(prec or 0)
        return _sign(format(float(n), f".{digits}{verb}"), flags), True
    if verb in "gG":
        n = to_number(value)
        return _sign(_go_g(float(n), prec, verb), flags), True
    raise ValueProblem(f"unsupported verb %{verb}; use %s, %d, %f, %e, %g, %x, %X, %o, %b, %v, %q, %t or %%")


def _go_g(value: float, prec: str | None, verb: str) -> str:
    """Go's %g: the shortest representation, exponent form when the exponent is < -4 or >= 6 (shortest)
    or >= the precision."""
    if prec is not None:
        return format(value, f".{int(prec or 0) or 1}{verb}")
    from decimal import Decimal  # here: only %g of a float needs it

    d = Decimal(repr(value)).normalize()
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    if not any(digits):
        return "0"
    x = len(digits) + exp - 1
    if x < -4 or x >= 6:
        mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
        e = "e" if verb == "g" else "E"
        return ("-" if sign else "") + f"{mantissa}{e}{'-' if x < 0 else '+'}{abs(x):02d}"
    return format(d, "f")


def go_format(spec: str, args: list[Any]) -> str:
    """`spec` with its verbs replaced by `args`; ValueProblem for a bad verb or argument."""
    out: list[str] = []
    pos = 0
    next_arg = 0
    used: set[int] = set()
    for m in _VERB.finditer(spec):
        out.append(spec[pos:m.start()])
        pos = m.end()
        verb = m.group("verb")
        if verb == "%":
            out.append("%")
            continue
        if not verb:
            raise ValueProblem("the format string ends with a lone %")
        if m.group("index"):
            next_arg = int(m.group("index")) - 1
        if next_arg >= len(args) or next_arg < 0:
            raise ValueProblem(f"not enough arguments for %{verb}: needs argument {next_arg + 1}, "
                               f"got {len(args)}")
        flags = m.group("flags")
        check_width(m.group("width"), m.group("prec"))
        width = int(m.group("width")) if m.group("width") else None
        try:
            text, numeric = _one(verb, flags, m.group("prec"), args[next_arg])
        except ValueProblem as e:
            raise ValueProblem(f"%{verb} (argument {next_arg + 1}): {e}") from None
        used.add(next_arg)
        next_arg += 1
        out.append(_pad(text, flags, width, numeric))
    out.append(spec[pos:])
    if len(used) < len(args):
        raise ValueProblem(f"too many arguments: the format string uses {len(used)}, got {len(args)}")
    return "".join(out)
