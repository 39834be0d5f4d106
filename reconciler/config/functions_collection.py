"""Terraform's collection functions beyond the first set: flatten, element, distinct, sort, zipmap, range,
set algebra, slicing and friends, with Terraform's argument rules (functions.py registers them).

Every function takes the configuration directory first (unused here) and plain Python values; a list or
set is a Python list (sets sorted as `toset` sorts them), a map or object a dict.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

from reconciler.config.functions_common import as_bool, as_int, as_list, as_map, as_number, as_string, unify
from reconciler.config.valueops import ValueProblem, describe, equal, normalize_number, set_of
from reconciler.values import UNKNOWN, is_known


def flatten(_: Path, value: Any) -> Any:
    def walk(items: list[Any], out: list[Any]) -> bool:
        for item in items:
            if item is UNKNOWN:
                return False
            if isinstance(item, (list, tuple)):
                if not walk(list(item), out):
                    return False
            else:
                out.append(item)
        return True

    out: list[Any] = []
    return out if walk(as_list(value, "the argument"), out) else UNKNOWN


def element(_: Path, lst: Any, idx: Any) -> Any:
    items = as_list(lst, "the first argument")
    i = as_int(idx, "the index")
    if not items:
        raise ValueProblem("cannot use element function with an empty list")
    return items[i % len(items)]  # wraps around, also for a negative index (counted from the end)


def distinct(_: Path, lst: Any) -> Any:
    out: list[Any] = []
    for v in as_list(lst, "the argument"):
        if not any(equal(v, u) is True for u in out):
            out.append(v)
    return out


def sort(_: Path, lst: Any) -> Any:
    items = as_list(lst, "the argument")
    if not is_known(items):
        return UNKNOWN
    if any(v is None for v in items):
        raise ValueProblem("given list element is null; a null value cannot be sorted")
    return sorted(as_string(v, "each element") for v in items)


def zipmap(_: Path, keys: Any, values: Any) -> Any:
    ks, vs = as_list(keys, "the keys"), as_list(values, "the values")
    if len(ks) != len(vs):
        raise ValueProblem(f"number of keys ({len(ks)}) does not match number of values ({len(vs)})")
    return {as_string(k, "each key"): v for k, v in zip(ks, vs, strict=True)}


def range_(_: Path, *args: Any) -> Any:
    nums = [Decimal(str(as_number(a, f"argument {i}"))) for i, a in enumerate(args, 1)]
    start, step = Decimal(0), Decimal(1)
    if len(nums) == 1:
        end = nums[0]
    elif len(nums) == 2:
        start, end = nums
        step = Decimal(1) if end >= start else Decimal(-1)
    else:
        start, end, step = nums
    if step == 0:
        raise ValueProblem("step must not be zero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise ValueProblem("the step must move from start toward end")
    out: list[Any] = []
    v = start
    while (step > 0 and v < end) or (step < 0 and v > end):
        out.append(normalize_number(int(v) if v == v.to_integral_value() else float(v)))
        v += step
        if len(out) > 1024:
            raise ValueProblem("more than 1024 values were generated; either decrease the difference "
                               "between start and end or use a smaller step")
    return out


def _numbers(args: tuple[Any, ...], name: str) -> list[int | float]:
    if not args:
        raise ValueProblem(f"{name}() needs at least one number")
    return [as_number(a, f"argument {i}") for i, a in enumerate(args, 1)]


def min_(_: Path, *args: Any) -> Any:
    return min(_numbers(args, "min"))


def max_(_: Path, *args: Any) -> Any:
    return max(_numbers(args, "max"))


def sum_(_: Path, lst: Any) -> Any:
    items = as_list(lst, "the argument")
    if not items:
        raise ValueProblem("cannot sum an empty list")
    total = sum((Decimal(repr(as_number(v, "each element"))) for v in items), Decimal(0))
    return normalize_number(int(total) if total == total.to_integral_value() else float(total))


def compact(_: Path, lst: Any) -> Any:
    items = as_list(lst, "the argument")
    if not is_known(items):
        return UNKNOWN
    return [as_string(v, "each element") for v in items if v is not None and v != ""]


def chunklist(_: Path, lst: Any, size: Any) -> Any:
    items = as_list(lst, "the first argument")
    n = as_int(size, "the chunk size")
    if n < 0:
        raise ValueProblem("the size argument must be positive")
    if n == 0:
        return [items]
    return [items[i:i + n] for i in range(0, len(items), n)]


def coalescelist(_: Path, *lists: Any) -> Any:
    for i, lst in enumerate(lists, 1):
        if lst is UNKNOWN:
            return UNKNOWN
        if lst is not None and as_list(lst, f"argument {i}"):
            return lst
    raise ValueProblem("no non-null, non-empty list arguments")


def index(_: Path, lst: Any, value: Any) -> Any:
    for i, v in enumerate(as_list(lst, "the first argument")):
        if equal(v, value) is True:
            return i
    raise ValueProblem("item not found")


def reverse(_: Path, lst: Any) -> Any:
    return list(reversed(as_list(lst, "the argument")))


def slice_(_: Path, lst: Any, start: Any, end: Any) -> Any:
    items = as_list(lst, "the first argument")
    a, b = as_int(start, "the start index"), as_int(end, "the end index")
    if a < 0:
        raise ValueProblem("the start index must not be negative")
    if b > len(items):
        raise ValueProblem("the end index must not be greater than the length of the list")
    if a > b:
        raise ValueProblem("the start index must not be greater than the end index")
    return items[a:b]


def one(_: Path, lst: Any) -> Any:
    if lst is None:
        return None
    items = as_list(lst, "the argument")
    if len(items) > 1:
        raise ValueProblem(f"must be a list, set, or tuple value with either zero or one elements, "
                           f"got {len(items)}")
    return items[0] if items else None


def alltrue(_: Path, lst: Any) -> Any:
    items = as_list(lst, "the argument")
    return all(as_bool(v, "each element") for v in items)


def anytrue(_: Path, lst: Any) -> Any:
    items = as_list(lst, "the argument")
    return any(v is not None and as_bool(v, "each element") for v in items)


def _sets(args: tuple[Any, ...]) -> list[list[Any]]:
    return [set_of(as_list(a, f"argument {i}")) for i, a in enumerate(args, 1)]


def setunion(_: Path, *args: Any) -> Any:
    return set_of([v for s in _sets(args) for v in s])


def setintersection(_: Path, *args: Any) -> Any:
    sets = _sets(args)
    return set_of([v for v in sets[0] if all(any(equal(v, u) is True for u in s) for s in sets[1:])])


def setsubtract(_: Path, a: Any, b: Any) -> Any:
    left, right = _sets((a, b))
    return set_of([v for v in left if not any(equal(v, u) is True for u in right)]) if left else []


def setproduct(_: Path, *args: Any) -> Any:
    if len(args) < 2:
        raise ValueProblem("at least two arguments are required")
    lists = [as_list(a, f"argument {i}") for i, a in enumerate(args, 1)]
    return [list(t) for t in itertools.product(*lists)]


def transpose(_: Path, mapping: Any) -> Any:
    out: dict[str, list[str]] = {}
    for k, vs in as_map(mapping, "the argument").items():
        for v in as_list(vs, f'the value of "{k}"'):
            out.setdefault(as_string(v, "each element"), []).append(k)
    return {k: sorted(v) for k, v in sorted(out.items())}


def matchkeys(_: Path, values: Any, keys: Any, searchset: Any) -> Any:
    vs, ks = as_list(values, "the values"), as_list(keys, "the keys")
    search = as_list(searchset, "the search set")
    if len(vs) != len(ks):
        raise ValueProblem("length of keys and values should be equal")
    return [v for v, k in zip(vs, ks, strict=True) if any(equal(k, s) is True for s in search)]


def tolist(_: Path, value: Any) -> Any:
    if value is None:
        return None
    return unify(as_list(value, "the argument"))


def tomap(_: Path, value: Any) -> Any:
    if value is None:
        return None
    m = as_map(value, "the argument")
    keys = list(m)
    return dict(zip(keys, unify([m[k] for k in keys]), strict=True))


def tobool(_: Path, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueProblem(f"cannot convert {describe(value)} to bool; only the strings \"true\" or \"false\" "
                       "are allowed")
