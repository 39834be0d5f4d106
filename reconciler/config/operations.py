"""The operators and traversals of the expression language, with Terraform's rules and messages.

Arithmetic converts numeric strings, comparison needs numbers, logic needs bools, `==` compares without
conversion; attribute access works on maps/objects, indexing on lists (whole numbers) and maps (string
keys). UNKNOWN operands give UNKNOWN results. Problems raise ValueProblem; the evaluator adds the position.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from reconciler.config.valueops import (
    ValueProblem,
    describe,
    equal,
    normalize_number,
    to_bool,
    to_number,
    to_string,
    type_name,
)
from reconciler.suggest import suffix
from reconciler.values import UNKNOWN


def _numbers(op: str, left: Any, right: Any) -> tuple[Any, Any]:
    try:
        a = to_number(left) if left is not UNKNOWN else UNKNOWN
        b = to_number(right) if right is not UNKNOWN else UNKNOWN
    except ValueProblem as e:
        raise ValueProblem(f"invalid operand for {op}: {e}") from None
    return a, b


def _divide(a: int | float, b: int | float) -> int | float:
    if b == 0:
        raise ValueProblem("division by zero")
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    from decimal import Decimal  # here, as in _exact: only arithmetic with a fraction needs it

    return normalize_number(float(Decimal(repr(a)) / Decimal(repr(b))))


def _modulo(a: int | float, b: int | float) -> int | float:
    if b == 0:
        raise ValueProblem("modulo by zero")
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return -r if a < 0 else r  # the sign of the dividend, as in Go and Terraform
    return normalize_number(math.fmod(a, b))


def _exact(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Terraform's arithmetic is decimal, not binary: 0.1 + 0.2 is 0.3. Whole numbers stay exact ints;
    with a fraction the operands are taken as the decimals they print as, and the result rounded to the
    nearest float."""
    def run(a: int | float, b: int | float) -> int | float:
        if isinstance(a, int) and isinstance(b, int):
            return op(a, b)
        from decimal import Decimal, InvalidOperation  # loaded by the first fraction: `validate` seldom has one

        try:
            return normalize_number(float(op(Decimal(repr(a)), Decimal(repr(b)))))
        except InvalidOperation:
            raise ValueProblem("the result is not a finite number") from None
    return run


_ARITHMETIC = {
    "+": _exact(lambda a, b: a + b),
    "-": _exact(lambda a, b: a - b),
    "*": _exact(lambda a, b: a * b),
    "/": _divide,
    "%": _modulo,
}
_COMPARE = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _bool_operand(op: str, value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    try:
        return to_bool(value)
    except ValueProblem as e:
        raise ValueProblem(f"invalid operand for {op}: {e}") from None


def binary(op: str, left: Any, right: Any) -> Any:
    if op == "==":
        return equal(left, right)
    if op == "!=":
        r = equal(left, right)
        return r if r is UNKNOWN else not r
    if op in ("&&", "||"):
        a, b = _bool_operand(op, left), _bool_operand(op, right)
        decisive = op == "||"  # true decides ||, false decides &&
        if a is decisive or b is decisive:
            return decisive
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        return a and b if op == "&&" else a or b
    a, b = _numbers(op, left, right)
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    arith = _ARITHMETIC.get(op)
    if arith is not None:
        return normalize_number(arith(a, b))
    return _COMPARE[op](a, b)


def unary(op: str, value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if op == "!":
        return not _bool_operand("!", value)
    try:
        return normalize_number(-to_number(value))
    except ValueProblem as e:
        raise ValueProblem(f"invalid operand for -: {e}") from None


def condition(value: Any, what: str = "condition") -> Any:
    """A conditional's test as a bool (UNKNOWN stays UNKNOWN)."""
    if value is UNKNOWN:
        return UNKNOWN
    if value is None:
        raise ValueProblem(f"the {what} is null; it must be true or false")
    try:
        return to_bool(value)
    except ValueProblem:
        raise ValueProblem(f"the {what} must be true or false, got {describe(value)}") from None


def get_attr(obj: Any, name: str) -> Any:
    if obj is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        hint = suffix(name, [str(k) for k in obj])
        raise ValueProblem(f'unsupported attribute "{name}": the object has no attribute "{name}"{hint}')
    if obj is None:
        raise ValueProblem(f'cannot read attribute "{name}" of a null value')
    if isinstance(obj, (list, tuple)):
        raise ValueProblem(f'cannot read attribute "{name}" of a list; use [INDEX].{name} for one element '
                           f"or [*].{name} for all")
    raise ValueProblem(f'cannot read attribute "{name}" of a {type_name(obj)}')


def index(obj: Any, key: Any) -> Any:
    if obj is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if key is None:
        raise ValueProblem("invalid index: the index is null")
    if isinstance(obj, (list, tuple)):
        try:
            i = to_number(key)
        except ValueProblem:
            raise ValueProblem(f"invalid index: a list index must be a whole number, got {describe(key)}") from None
        if not isinstance(i, int):
            raise ValueProblem(f"invalid index: a list index must be a whole number, got {describe(key)}")
        if i < 0 or i >= len(obj):
            n = len(obj)
            raise ValueProblem(f"invalid index: the list has {n} element{'' if n == 1 else 's'}, index {i}")
        return obj[i]
    if isinstance(obj, dict):
        if isinstance(key, (list, dict)):
            raise ValueProblem(f"invalid index: a map key must be a string, got {describe(key)}")
        k = to_string(key)
        if k not in obj:
            raise ValueProblem(f'invalid index: the map has no element for key "{k}"')
        return obj[k]
    if obj is None:
        raise ValueProblem("invalid index: cannot index a null value")
    raise ValueProblem(f"invalid index: a {type_name(obj)} cannot be indexed")
