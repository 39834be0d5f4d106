"""Variable type constraints (`type = list(string)`) and Terraform's conversion of values to them.

`parse_type` reads the expression a `type = ...` attribute holds: string, number, bool, any, list(T),
set(T), map(T), tuple([T, ...]) and object({a = T, b = optional(T, default)}). `convert` converts a value
the way Terraform converts a variable's value ("3" -> 3 for number, 3 -> "3" for string, "true" -> true
for bool, object attributes checked and optional defaults filled) and reports the first mismatch as
`invalid value for variable "NAME": ...`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config import syntax as s
from reconciler.config.valueops import ValueProblem, describe, json_encode, set_of, to_bool, to_number, to_string
from reconciler.errors import ConfigError, SourcePos
from reconciler.suggest import suffix
from reconciler.values import UNKNOWN

PRIMITIVES = ("string", "number", "bool", "any")
COLLECTIONS = ("list", "set", "map")
TYPE_NAMES = (*PRIMITIVES, *COLLECTIONS, "tuple", "object")


@dataclass(frozen=True)
class ObjectAttribute:
    """One attribute of an `object({...})` type, optional with a default or not."""
    name: str
    type: TypeSpec
    optional: bool = False
    default: Any = field(default=None, hash=False)

    def __str__(self) -> str:
        if not self.optional:
            return f"{self.name} = {self.type}"
        if self.default is None:
            return f"{self.name} = optional({self.type})"
        return f"{self.name} = optional({self.type}, {json_encode(self.default)})"


@dataclass(frozen=True)
class TypeSpec:
    """A type constraint; `str()` gives its Terraform spelling, e.g. `list(string)`."""

    kind: str  # one of TYPE_NAMES
    elem: TypeSpec | None = None  # list, set, map
    elems: tuple[TypeSpec, ...] = ()  # tuple
    attrs: tuple[ObjectAttribute, ...] = ()  # object

    def __str__(self) -> str:
        if self.kind in PRIMITIVES:
            return self.kind
        if self.kind in COLLECTIONS:
            return f"{self.kind}({self.elem})"
        if self.kind == "tuple":
            return "tuple([" + ", ".join(str(e) for e in self.elems) + "])"
        return "object({" + ", ".join(str(a) for a in self.attrs) + "})"


class _NoNames:
    base_dir = Path(".")

    def lookup(self, name: str, pos: SourcePos) -> Any:
        raise ConfigError(f'"{name}" cannot be used in a type constraint; only literal values are allowed', pos)


def _bad(message: str, pos: SourcePos, hint: str | None = None) -> ConfigError:
    return ConfigError(f"invalid type constraint: {message}", pos, hint=hint)


def _one_arg(expr: s.Call) -> s.Expr:
    if len(expr.args) != 1 or expr.expand_last:
        raise _bad(f"{expr.name}(...) takes exactly one argument", expr.pos)
    return expr.args[0]


def parse_type(expr: s.Expr) -> TypeSpec:
    """The type constraint written as `expr`; ConfigError for anything that is not a type."""
    if isinstance(expr, s.ScopeRef):
        if expr.name in PRIMITIVES:
            return TypeSpec(expr.name)
        if expr.name in COLLECTIONS:  # bare `list` / `map` means list(any) / map(any), as in Terraform
            return TypeSpec(expr.name, elem=TypeSpec("any"))
        raise _bad(f'unknown type "{expr.name}"' + suffix(expr.name, TYPE_NAMES), expr.pos)
    if isinstance(expr, s.Call):
        name = expr.name
        if name in COLLECTIONS:
            return TypeSpec(name, elem=parse_type(_one_arg(expr)))
        if name == "tuple":
            arg = _one_arg(expr)
            if not isinstance(arg, s.TupleExpr):
                raise _bad("tuple(...) takes a list of types, e.g. tuple([string, number])", expr.pos)
            return TypeSpec("tuple", elems=tuple(parse_type(e) for e in arg.items))
        if name == "object":
            return _object(_one_arg(expr), expr.pos)
        if name == "optional":
            raise _bad("optional(...) can only be used for an attribute inside object({...})", expr.pos)
        raise _bad(f'unknown type "{name}"' + suffix(name, TYPE_NAMES), expr.pos)
    if isinstance(expr, s.Literal) and isinstance(expr.value, str):
        raise _bad("a type is written without quotes", expr.pos, hint=f"write type = {expr.value}")
    raise _bad("expected a type such as string, number, bool, list(string), map(number) or object({...})",
               expr.pos)


def _object(arg: s.Expr, pos: SourcePos) -> TypeSpec:
    from reconciler.config.evaluator import evaluate

    if not isinstance(arg, s.ObjectExpr):
        raise _bad("object(...) takes a map of attribute types, e.g. object({name = string})", pos)
    attrs: list[ObjectAttribute] = []
    seen: set[str] = set()
    for key, value in arg.items:
        if not (isinstance(key, s.Literal) and isinstance(key.value, str)):
            raise _bad("object attribute names must be plain names", key.pos)
        name = key.value
        if name in seen:
            raise _bad(f'attribute "{name}" is declared twice', key.pos)
        seen.add(name)
        if isinstance(value, s.Call) and value.name == "optional":
            if len(value.args) not in (1, 2):
                raise _bad("optional(...) takes a type and an optional default value", value.pos)
            attr_type = parse_type(value.args[0])
            default = None
            if len(value.args) == 2:
                raw = evaluate(value.args[1], _NoNames())
                try:
                    default = _convert(raw, attr_type, "")
                except ValueProblem as e:
                    raise _bad(f'the default of attribute "{name}" does not fit its type: {e}', value.pos) from None
            attrs.append(ObjectAttribute(name, attr_type, True, default))
        else:
            attrs.append(ObjectAttribute(name, parse_type(value)))
    return TypeSpec("object", attrs=tuple(attrs))


def convert(value: Any, spec: TypeSpec, pos: SourcePos, what: str) -> Any:
    """`value` converted to `spec`; ConfigError `invalid value for variable "WHAT": ...` if it does not fit."""
    try:
        return _convert(value, spec, "")
    except ValueProblem as e:
        raise ConfigError(f'invalid value for variable "{what}": {e}', pos) from None


def _at(where: str, problem: str) -> ValueProblem:
    return ValueProblem(f"{where}: {problem}" if where else problem)


def _convert(value: Any, spec: TypeSpec, where: str) -> Any:
    if value is None or value is UNKNOWN:
        return value
    kind = spec.kind
    try:
        if kind == "any":
            return value
        if kind == "string":
            if isinstance(value, (list, dict)):
                raise ValueProblem(f"a string is required, got {describe(value)}")
            return to_string(value)
        if kind == "number":
            return to_number(value)
        if kind == "bool":
            return to_bool(value)
    except ValueProblem as e:
        raise _at(where, str(e)) from None
    if kind in ("list", "set", "tuple"):
        if not isinstance(value, (list, tuple)):
            raise _at(where, f"a {kind} is required, got {describe(value)}")
        if kind == "tuple":
            if len(value) != len(spec.elems):
                raise _at(where, f"a tuple of {len(spec.elems)} elements is required, got {len(value)}")
            return [_convert(v, t, _join(where, f"element {i}")) for i, (v, t) in enumerate(zip(value, spec.elems,
                                                                                                 strict=True))]
        assert spec.elem is not None
        items = [_convert(v, spec.elem, _join(where, f"element {i}")) for i, v in enumerate(value)]
        if kind == "set":
            if any(v is UNKNOWN for v in items):
                return UNKNOWN
            try:
                return set_of(items)
            except ValueProblem as e:
                raise _at(where, str(e)) from None
        return items
    if not isinstance(value, dict):
        raise _at(where, f"{'an object' if kind == 'object' else 'a map'} is required, got {describe(value)}")
    if kind == "map":
        assert spec.elem is not None
        return {k: _convert(v, spec.elem, _join(where, f'element "{k}"')) for k, v in value.items()}
    out: dict[str, Any] = {}
    for attr in spec.attrs:
        sub = _join(where, f'attribute "{attr.name}"')
        given = value.get(attr.name)
        if attr.name not in value and not attr.optional:
            raise _at(where, f'attribute "{attr.name}" is required')
        if given is None and attr.optional:
            given = attr.default
        out[attr.name] = _convert(given, attr.type, sub)
    return out


def _join(where: str, step: str) -> str:
    return f"{where}, {step}" if where else step
