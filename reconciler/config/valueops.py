"""Terraform's value rules over plain Python values: type names, safe conversions, equality, JSON text.

Values are None, bool, int, float (integral floats are normalised to int), str, list and dict, plus
reconciler.values.UNKNOWN. The evaluator, the functions and the type constraints share these rules, so
`"3" + 1`, `tonumber("3")` and `variable { type = number }` all convert the same way. Problems are raised
as ValueProblem (no position); callers turn them into ConfigErrors with the position they know.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.config.limits import MAX_NUMBER_DIGITS
from reconciler.values import UNKNOWN

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class ValueProblem(ValueError):
    """A value that does not fit what an operation needs; the message says what was needed."""


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if value is UNKNOWN:
        return "unknown value"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def describe(value: Any) -> str:
    """A short description for messages: `string "abc"`, `number 3`, `list`, `null`."""
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, bool):
        return f"bool {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"number {format_number(value)}"
    return type_name(value)


def normalize_number(value: int | float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def format_number(value: int | float) -> str:
    """A number as Terraform writes it: integers without a point, no exponent."""
    value = normalize_number(value)
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # Python's own bound on int -> str conversion (4,300 digits)
            raise ValueProblem(f"a number of more than {MAX_NUMBER_DIGITS:,} digits is not supported") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueProblem("the number is not finite")
    text = repr(value)
    if "e" in text or "E" in text:
        from decimal import Decimal  # here: only exponent forms need it, and `validate` seldom meets one

        text = format(Decimal(text), "f")
    return text


def to_number(value: Any) -> int | float:
    """A number, converting numeric strings; ValueProblem otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueProblem(f"a number is required, got {describe(value)}")
    if isinstance(value, (int, float)):
        return normalize_number(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        if len(value) > MAX_NUMBER_DIGITS:
            raise ValueProblem(f"a number of more than {MAX_NUMBER_DIGITS:,} digits is not supported")
        return int(value) if re.fullmatch(r"-?\d+", value) else normalize_number(float(value))
    raise ValueProblem(f"a number is required, got {describe(value)}")


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValueProblem(f"a bool is required, got {describe(value)}")


def to_string(value: Any) -> str:
    """A primitive value as a string; ValueProblem for null and collections."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if value is None:
        raise ValueProblem("a string is required, got null")
    raise ValueProblem(f"a string is required, got {type_name(value)}")


def equal(a: Any, b: Any) -> Any:
    """Terraform `==`: no conversion between types; UNKNOWN when the answer depends on an unknown value."""
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is bool and type(b) is bool and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return False
        return _all_equal(zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return False
        return _all_equal((a[k], b[k]) for k in a)
    return False


def _all_equal(pairs: Any) -> Any:
    unknown = False
    for x, y in pairs:
        r = equal(x, y)
        if r is UNKNOWN:
            unknown = True
        elif not r:
            return False
    return UNKNOWN if unknown else True


def _whole_floats(value: Any) -> Any:
    """Integral floats past int range as the integers they print as (1e21 -> 1000000000000000000000)."""
    if isinstance(value, float) and value.is_integer():
        from decimal import Decimal

        return int(format(Decimal(repr(value)), "f"))
    if isinstance(value, (list, tuple)):
        return [_whole_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_floats(v) for k, v in value.items()}
    return value


def json_encode(value: Any) -> str:
    """Compact JSON with sorted keys and Go's HTML-safe escapes, as Terraform's jsonencode writes it."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    if "e+" in text:  # a float too big for int range somewhere (or the text "e+" in a string): write it whole
        text = json.dumps(_whole_floats(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False,
                          allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def normalize_json(value: Any) -> Any:
    """A decoded JSON value with integral floats turned into ints."""
    if isinstance(value, float):
        return normalize_number(value)
    if isinstance(value, list):
        return [normalize_json(v) for v in value]
    if isinstance(value, dict):
        return {k: normalize_json(v) for k, v in value.items()}
    return value


class SetValue(list[Any]):
    """A list that is a Terraform set (made by toset, the set functions or a set(...) type): it behaves as
    the list it is everywhere, and lets `for_each` tell a set from a list, as Terraform's types do."""

    __slots__ = ()


def set_of(items: list[Any]) -> list[Any]:
    """Terraform set semantics over a list: unique elements; strings and numbers sorted.

    Mixed primitive elements are unified to strings, as Terraform unifies a set's element type.
    """
    if any(v is None for v in items):
        raise ValueProblem("a set cannot contain null values")
    if all(isinstance(v, bool) for v in items):
        return SetValue(sorted(set(items)))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return SetValue(sorted(set(items)))
    if all(isinstance(v, (str, int, float)) for v in items):
        return SetValue(sorted({to_string(v) for v in items}))
    out: list[Any] = SetValue()
    for v in items:
        if not any(equal(v, u) is True for u in out):
            out.append(v)
    return out
