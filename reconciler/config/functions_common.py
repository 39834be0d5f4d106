"""Argument helpers and value unification shared by the function modules (functions_*.py).

Terraform converts a function's arguments to the parameter types it declares; these helpers do the same
over plain Python values and raise ValueProblem naming the argument. `unify` is Terraform's type
unification for primitives: a mix of strings with numbers or bools becomes all strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from reconciler.config.valueops import ValueProblem, describe, to_bool, to_number, to_string

T = TypeVar("T")


def as_map(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueProblem(f"{what} must be a map or object, got {describe(value)}")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ValueProblem(f"{what} must be a list, got {describe(value)}")
    return list(value)


def _converted(value: Any, what: str, convert: Callable[[Any], T], kind: str) -> T:
    """`convert(value)`, with the argument named in the message when it is null or cannot be converted."""
    if value is None:
        raise ValueProblem(f"{what} must not be null")
    try:
        return convert(value)
    except ValueProblem:
        raise ValueProblem(f"{what} must be {kind}, got {describe(value)}") from None


def as_string(value: Any, what: str) -> str:
    return _converted(value, what, to_string, "a string")


def as_number(value: Any, what: str) -> int | float:
    return _converted(value, what, to_number, "a number")


def as_int(value: Any, what: str) -> int:
    n = as_number(value, what)
    if not isinstance(n, int):
        raise ValueProblem(f"{what} must be a whole number, got {describe(value)}")
    return n


def as_bool(value: Any, what: str) -> bool:
    try:
        return to_bool(value)
    except ValueProblem:
        raise ValueProblem(f"{what} must be a bool, got {describe(value)}") from None


def is_primitive(value: Any) -> bool:
    return isinstance(value, (str, bool, int, float))


def unify(values: list[Any]) -> list[Any]:
    """Values of one type, as Terraform unifies a list's elements: strings win over numbers and bools."""
    prims = [v for v in values if v is not None]
    if not prims or not all(is_primitive(v) for v in prims):
        return values
    kinds = {str if isinstance(v, str) else bool if isinstance(v, bool) else float for v in prims}
    if len(kinds) == 1:
        return values
    if str not in kinds:
        raise ValueProblem("the values have no common type (a number and a bool)")
    return [None if v is None else to_string(v) for v in values]


def unify_with(value: Any, other: Any) -> Any:
    """`value` converted to the type it shares with `other` (a conditional's two results): a number or
    bool meeting a string becomes a string, element by element in lists and attribute by attribute in
    objects."""
    if isinstance(other, str) and isinstance(value, (bool, int, float)):
        return to_string(value)
    if isinstance(value, list) and isinstance(other, list) and other:
        return [unify_with(v, other[0]) for v in value]
    if isinstance(value, dict) and isinstance(other, dict):
        return {k: unify_with(v, other[k]) if k in other else v for k, v in value.items()}
    return value
