"""The Terraform functions the configuration language offers, with Terraform's argument rules.

Exactly: length, lookup, merge, concat, contains, keys, values, join, split, format, lower, upper,
tostring, tonumber, toset, jsonencode, jsondecode, file, coalesce. `call` checks the name (with a
did-you-mean), the number of arguments and unknown values: an argument that is UNKNOWN makes the result
UNKNOWN, unless the function looks inside (length of a list with unknown elements is known). Problems
are one-line ConfigErrors "Invalid function argument: NAME() ...".
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.config.formatting import go_format
from reconciler.config.functions_common import as_list, as_map, as_string
from reconciler.config.functions_text import length_of_string
from reconciler.config.limits import read_bounded
from reconciler.config.valueops import (
    ValueProblem,
    describe,
    equal,
    json_encode,
    normalize_json,
    set_of,
    to_number,
    to_string,
    type_name,
)
from reconciler.errors import ConfigError, SourcePos
from reconciler.suggest import suffix
from reconciler.values import UNKNOWN, is_known


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    sees_unknown: bool = False  # True: impl handles UNKNOWN arguments itself


def _length(_: Path, value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if value is None:
        raise ValueProblem("the argument must not be null")
    if isinstance(value, str):
        return length_of_string(value)
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    raise ValueProblem(f"the argument must be a list, map or string, got {describe(value)}")


def _lookup(_: Path, mapping: Any, key: Any, *default: Any) -> Any:
    m = as_map(mapping, "the first argument")
    k = as_string(key, "the key")
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise ValueProblem(f'the map has no key "{k}" and no default was given')


def _merge(_: Path, *maps: Any) -> Any:
    out: dict[str, Any] = {}
    for i, m in enumerate(maps, 1):
        if m is None:
            continue
        out.update(as_map(m, f"argument {i}"))
    return out


def _concat(_: Path, *lists: Any) -> Any:
    out: list[Any] = []
    for i, item in enumerate(lists, 1):
        out.extend(as_list(item, f"argument {i}"))
    return out


def _contains(_: Path, collection: Any, value: Any) -> Any:
    if collection is UNKNOWN:
        return UNKNOWN
    items = as_list(collection, "the first argument")
    unknown = value is UNKNOWN
    for item in items:
        r = equal(item, value)
        if r is True:
            return True
        if r is UNKNOWN:
            unknown = True
    return UNKNOWN if unknown else False


def _keys(_: Path, mapping: Any) -> Any:
    return sorted(as_map(mapping, "the argument"))


def _values(_: Path, mapping: Any) -> Any:
    m = as_map(mapping, "the argument")
    return [m[k] for k in sorted(m)]


def _join(_: Path, sep: Any, *lists: Any) -> Any:
    separator = as_string(sep, "the separator")
    parts: list[str] = []
    for i, lst in enumerate(lists, 2):
        for item in as_list(lst, f"argument {i}"):
            if item is UNKNOWN:
                return UNKNOWN
            if item is None:
                raise ValueProblem(f"argument {i} has a null element")
            parts.append(as_string(item, f"each element of argument {i}"))
    return separator.join(parts)


def _split(_: Path, sep: Any, text: Any) -> Any:
    separator, s = as_string(sep, "the separator"), as_string(text, "the string")
    if separator == "":
        return list(s)
    return s.split(separator)


def _format(_: Path, spec: Any, *args: Any) -> Any:
    if not is_known(list(args)):
        return UNKNOWN
    return go_format(as_string(spec, "the format"), list(args))


def _tostring(_: Path, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        raise ValueProblem(f"cannot convert a {type_name(value)} to a string")
    return to_string(value)


def _tonumber(_: Path, value: Any) -> Any:
    if value is None:
        return None
    try:
        return to_number(value)
    except ValueProblem:
        raise ValueProblem(f"cannot convert {describe(value)} to a number") from None


def _toset(_: Path, value: Any) -> Any:
    items = as_list(value, "the argument")
    if not is_known(items):
        return UNKNOWN
    return set_of(items)


def _jsonencode(_: Path, value: Any) -> Any:
    if not is_known(value):
        return UNKNOWN
    try:
        return json_encode(value)
    except (TypeError, ValueError) as e:
        raise ValueProblem(f"cannot encode the value: {e}") from None


def _jsondecode(_: Path, text: Any) -> Any:
    s = as_string(text, "the argument")
    try:
        return normalize_json(json.loads(s))
    except json.JSONDecodeError as e:
        raise ValueProblem(f"invalid JSON: {e.msg} at character {e.pos + 1}") from None


def _file(base_dir: Path, path: Any) -> Any:
    name = as_string(path, "the path")
    full = Path(name).expanduser()
    if not full.is_absolute():
        full = base_dir / full
    try:
        return read_bounded(full, name)
    except FileNotFoundError:
        raise ValueProblem(f'no file exists at "{name}" (looked in {full.parent})') from None
    except UnicodeDecodeError:
        raise ValueProblem(f'"{name}" is not UTF-8 text') from None
    except OSError as e:
        raise ValueProblem(f'cannot read "{name}": {e.strerror}') from None


def _coalesce(_: Path, *values: Any) -> Any:
    for v in values:
        if v is UNKNOWN:
            return UNKNOWN
        if v is not None and v != "":
            # the result has the arguments' unified type: a number or bool among strings is a string
            if isinstance(v, (bool, int, float)) and any(isinstance(o, str) for o in values):
                return to_string(v)
            return v
    raise ValueProblem("no non-null, non-empty-string arguments")


FUNCTIONS: dict[str, Function] = {
    "length": Function(_length, 1, 1, sees_unknown=True),
    "lookup": Function(_lookup, 2, 3),
    "merge": Function(_merge, 0, None),
    "concat": Function(_concat, 0, None),
    "contains": Function(_contains, 2, 2, sees_unknown=True),
    "keys": Function(_keys, 1, 1),
    "values": Function(_values, 1, 1),
    "join": Function(_join, 2, None),
    "split": Function(_split, 2, 2),
    "format": Function(_format, 1, None),
    "tostring": Function(_tostring, 1, 1),
    "tonumber": Function(_tonumber, 1, 1),
    "toset": Function(_toset, 1, 1),
    "jsonencode": Function(_jsonencode, 1, 1),
    "jsondecode": Function(_jsondecode, 1, 1),
    "file": Function(_file, 1, 1),
    "coalesce": Function(_coalesce, 1, None, sees_unknown=True),
}


@cache
def _resolve(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(f"reconciler.config.functions_{module}"), name)


class _Module:
    """A functions_* module whose functions are imported on the first call of one of them: a configuration
    that calls no encoding, network or file function does not load base64, csv, gzip, ipaddress or datetime."""

    def __init__(self, module: str) -> None:
        self.module = module

    def __getattr__(self, name: str) -> Callable[..., Any]:
        module = self.module

        def deferred(*args: Any) -> Any:
            return _resolve(module, name)(*args)

        deferred.__qualname__ = f"functions_{module}.{name}"
        return deferred


def _register() -> None:
    """The functions kept in the functions_* modules."""
    from reconciler.config import functions_text as t

    c, e, f, n = _Module("collection"), _Module("encoding"), _Module("files"), _Module("net")

    fixed: dict[str, tuple[Callable[..., Any], int] | tuple[Callable[..., Any], int, int]] = {
        # collections and type conversion
        "flatten": (c.flatten, 1), "element": (c.element, 2), "distinct": (c.distinct, 1), "sort": (c.sort, 1),
        "zipmap": (c.zipmap, 2), "range": (c.range_, 1, 3), "sum": (c.sum_, 1), "compact": (c.compact, 1),
        "chunklist": (c.chunklist, 2), "index": (c.index, 2), "reverse": (c.reverse, 1), "slice": (c.slice_, 3),
        "one": (c.one, 1), "alltrue": (c.alltrue, 1), "anytrue": (c.anytrue, 1), "setsubtract": (c.setsubtract, 2),
        "transpose": (c.transpose, 1), "matchkeys": (c.matchkeys, 3), "tolist": (c.tolist, 1),
        "tomap": (c.tomap, 1), "tobool": (c.tobool, 1),
        # strings
        "title": (t.title, 1), "substr": (t.substr, 3), "strrev": (t.strrev, 1), "trimspace": (t.trimspace, 1),
        "trim": (t.trim, 2), "trimprefix": (t.trimprefix, 2), "trimsuffix": (t.trimsuffix, 2),
        "startswith": (t.startswith, 2), "endswith": (t.endswith, 2), "strcontains": (t.strcontains, 2),
        "chomp": (t.chomp, 1), "indent": (t.indent, 2), "regex": (t.regex_, 2), "regexall": (t.regexall, 2),
        "replace": (t.replace, 3),
        # encoding and hashes
        "base64encode": (e.base64encode, 1), "base64decode": (e.base64decode, 1), "base64gzip": (e.base64gzip, 1),
        "urlencode": (e.urlencode, 1), "csvdecode": (e.csvdecode, 1), "yamlencode": (e.yamlencode, 1),
        "yamldecode": (e.yamldecode, 1), "md5": (e.md5, 1), "sha1": (e.sha1, 1), "sha256": (e.sha256, 1),
        "sha512": (e.sha512, 1), "base64sha256": (e.base64sha256, 1), "base64sha512": (e.base64sha512, 1),
        # IP networks and numbers
        "cidrsubnet": (n.cidrsubnet, 3), "cidrhost": (n.cidrhost, 2), "cidrnetmask": (n.cidrnetmask, 1),
        "abs": (n.abs_, 1), "ceil": (n.ceil, 1), "floor": (n.floor, 1), "pow": (n.pow_, 2), "log": (n.log, 2),
        "signum": (n.signum, 1), "parseint": (n.parseint, 2),
        # files and sensitivity
        "templatefile": (f.templatefile, 2), "fileexists": (f.fileexists, 1), "filebase64": (f.filebase64, 1),
        "basename": (f.basename, 1), "dirname": (f.dirname, 1), "abspath": (f.abspath, 1),
        "pathexpand": (f.pathexpand, 1), "sensitive": (f.sensitive, 1), "nonsensitive": (f.nonsensitive, 1),
        "filemd5": (f.filemd5, 1), "filesha1": (f.filesha1, 1), "filesha256": (f.filesha256, 1),
        "filesha512": (f.filesha512, 1), "filebase64sha256": (f.filebase64sha256, 1),
        "filebase64sha512": (f.filebase64sha512, 1), "fileset": (f.fileset, 2),
        "templatestring": (f.templatestring, 2), "textencodebase64": (e.textencodebase64, 2),
        "textdecodebase64": (e.textdecodebase64, 2), "uuidv5": (e.uuidv5, 2), "timeadd": (n.timeadd, 2),
        "timecmp": (n.timecmp, 2),
    }
    for name, entry in fixed.items():
        FUNCTIONS[name] = Function(entry[0], entry[1], entry[-1])
    variadic = {"min": c.min_, "max": c.max_, "coalescelist": c.coalescelist, "setunion": c.setunion,
                "setintersection": c.setintersection, "setproduct": c.setproduct, "formatlist": t.formatlist,
                "cidrsubnets": n.cidrsubnets}
    for name, impl in variadic.items():
        FUNCTIONS[name] = Function(impl, 1, None, sees_unknown=name == "coalescelist")
    FUNCTIONS["upper"] = Function(t.upper, 1, 1)
    FUNCTIONS["lower"] = Function(t.lower, 1, 1)
    # try and can look at their arguments' errors, so the evaluator handles them (evaluator.LAZY)
    FUNCTIONS["try"] = Function(_lazy, 1, None, sees_unknown=True)
    FUNCTIONS["can"] = Function(_lazy, 1, 1, sees_unknown=True)


def _lazy(_: Path, *args: Any) -> Any:
    raise AssertionError("try() and can() are evaluated by the evaluator")


_register()


# Terraform functions we refuse, with why (docs/terraform-language.md lists them too)
NOT_SUPPORTED = {
    "timestamp": "its value changes on every run, so a plan could never be applied exactly",
    "plantimestamp": "its value changes on every run, so a plan could never be applied exactly",
    "uuid": "its value changes on every run; use uuidv5() or a vars generator",
    "bcrypt": "its value changes on every run; use a vars generator (builtin = \"password\")",
    "formatdate": "not implemented yet",
    "rsadecrypt": "secrets come from vars generators, not from decrypting in the configuration",
    "issensitive": "sensitivity is tracked per variable and output, not per value",
    "ephemeralasnull": "ephemeral values are not supported",
    "type": "only available in the Terraform console",
}


def lookup_function(name: str, pos: SourcePos) -> Function:
    """The function called `name`; ConfigError with a did-you-mean for an unknown one."""
    fn = FUNCTIONS.get(name)
    if fn is None and name in NOT_SUPPORTED:
        raise ConfigError(f'function "{name}" is not supported: {NOT_SUPPORTED[name]}', pos)
    if fn is None and name.startswith("provider::"):
        raise ConfigError(f'provider-defined function "{name}" is not supported', pos)
    if fn is None:
        suggestion = suffix(name, sorted(FUNCTIONS))
        raise ConfigError(f'unknown function "{name}"{suggestion}', pos,
                          hint=None if suggestion else "the functions reconciler offers are Terraform's built-in ones, "
                          "listed in docs/terraform-language.md")
    return fn


def _arity(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def call(name: str, args: list[Any], pos: SourcePos, base_dir: Path) -> Any:
    """The result of `name(*args)`; ConfigError at `pos` for an unknown function or a bad argument."""
    fn = lookup_function(name, pos)
    n = len(args)
    if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
        if fn.max_args is None:
            want = f"at least {_arity(fn.min_args)}"
        elif fn.min_args == fn.max_args:
            want = _arity(fn.min_args)
        else:
            want = f"{fn.min_args} to {_arity(fn.max_args)}"
        raise ConfigError(f"Invalid function argument: {name}() takes {want}, got {n}", pos)
    if not fn.sees_unknown and any(a is UNKNOWN for a in args):
        return UNKNOWN
    try:
        return fn.impl(base_dir, *args)
    except ValueProblem as e:
        raise ConfigError(f"Invalid function argument: {name}(): {e}", pos) from None
    except RecursionError:  # e.g. jsondecode of a string nested thousands deep
        raise ConfigError(f"Invalid function argument: {name}(): the value nests too deeply", pos) from None
