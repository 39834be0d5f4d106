"""Check evaluated blocks against the JSON Schemas in `schemas/`, with one clear line per problem.

jsonschema does the checking. For speed on fleets of thousands of resources a resource's attributes are
checked one by one against their property subschemas with a memo keyed on the value (names differ, most
other values repeat), and the object's own keywords (required, unknown attributes, the cross-attribute
`x-rules`) are checked on the attribute names. A value known only after apply (UNKNOWN) satisfies every
keyword; it is checked again when it is known, at apply.

The checks that passed are also kept between runs (reconciler/config/schema_verdicts.py), and jsonschema is
imported only for a check that is not known to pass: a command run again on an unchanged configuration never
loads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

import schemas
from reconciler.config.schema_verdicts import Verdicts
from reconciler.errors import ConfigError, SourcePos
from reconciler.suggest import did_you_mean
from reconciler.values import UNKNOWN

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


@cache
def validator_class() -> Any:
    """jsonschema's Draft 2020-12 validator for which UNKNOWN satisfies every keyword (imported on first use)."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine_many(
        {name: (lambda fn: lambda c, inst: inst is UNKNOWN or fn(c, inst))(base.TYPE_CHECKER._type_checkers[name])
         for name in ("string", "number", "integer", "boolean", "array", "object", "null")})

    def skip_unknown(fn: Callable[..., Iterator[ValidationError]]) -> Callable[..., Iterator[ValidationError]]:
        def wrapped(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
            if instance is UNKNOWN:
                return iter(())
            return fn(validator, value, instance, schema) or iter(())
        return wrapped

    validators = {k: skip_unknown(v) for k, v in base.VALIDATORS.items()}
    return jsonschema.validators.extend(base, validators=validators, type_checker=checker)


def validator(schema: Mapping[str, Any]) -> Any:
    return validator_class()(schema)


_JSON_TYPES = {str: "a string", bool: "a bool", int: "a number", float: "a number", list: "a list",
               dict: "a map", type(None): "null"}
_WANT = {"string": "a string", "boolean": "a bool", "integer": "a whole number", "number": "a number",
         "array": "a list", "object": "a map", "null": "null"}


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _unsupported(unsupported: Mapping[str, Mapping[str, str]], block: str, name: str, full: str) -> str | None:
    """The message for an attribute the Terraform provider has and we refuse, or None."""
    note = unsupported.get(block, {}).get(name)
    if note is None:
        return None
    return f'"{full}" (an attribute of the Terraform provider) is not supported: {note}'


def _message(err: ValidationError, prefix: str,
             unsupported: Mapping[str, Mapping[str, str]] | None = None) -> tuple[str, str | None]:
    """(message, hint) for one jsonschema error, worded for a Terraform user."""
    where = _path([*([prefix] if prefix else []), *err.absolute_path])
    custom = err.schema.get("x-message") if isinstance(err.schema, dict) else None
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        got = _JSON_TYPES.get(type(err.instance), type(err.instance).__name__)
        return f'"{where}" must be {" or ".join(_WANT.get(str(w), str(w)) for w in want)}, not {got}', None
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        name = extra[0] if extra else "?"
        full = f"{where}.{name}" if where else name
        block = ".".join(str(p) for p in [*([prefix] if prefix else []), *err.absolute_path] if not isinstance(p, int))
        refused = _unsupported(unsupported or {}, block, name, full)
        if refused:
            return refused, None
        return f'unknown argument "{full}"', did_you_mean(name, err.schema.get("properties", {}))
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        full = f"{where}.{missing}" if where else missing
        return f'missing required argument "{full}"', None
    if err.validator == "enum":
        return f'"{where}" must be one of {", ".join(map(repr, err.validator_value))}', None
    if err.validator in ("pattern", "propertyNames") and custom:
        return f'"{where}" {custom}', None
    if custom:
        return f'"{where}" {custom}', None
    if err.validator in ("minItems", "maxItems"):
        return f'"{where}": {err.message}', None
    return f'"{where}": {err.message}', None


def _freeze(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return (type(value), value)
    return repr(value)


class BlockSchema:
    """One schema of `schemas/`, ready to check evaluated attribute maps."""

    def __init__(self, schema: Mapping[str, Any], unsupported: Mapping[str, Mapping[str, str]] | None = None,
                 name: str = "") -> None:
        # the Terraform provider's attributes we refuse, by nested block path ("" = the block itself)
        self.unsupported: Mapping[str, Mapping[str, str]] = unsupported or {}
        self.properties: Mapping[str, Any] = schema.get("properties", {})
        self.required: tuple[str, ...] = tuple(schema.get("required", ()))
        self._required = frozenset(self.required)
        self.closed = schema.get("additionalProperties", True) is False
        self._whole_schema = {k: v for k, v in schema.items() if k not in ("x-rules",)}
        self._prechecks = {k: test for k, v in self.properties.items() if (test := _precheck(v)) is not None}
        # attributes whose values may be secrets (`writeOnly` in the schema): their checks are never kept
        self._secret = frozenset(k for k, v in self.properties.items() if isinstance(v, dict) and v.get("writeOnly"))
        # only type, properties, required and additionalProperties: a block is valid when each attribute is
        self._simple = set(schema) <= _SIMPLE_OBJECT and schema.get("type") == "object"
        self._rule_schemas = [({k: v for k, v in r.items() if not k.startswith("x-")}, r)
                              for r in schema.get("x-rules", ())]
        self._rule_keys = frozenset(k for _, r in self._rule_schemas for k in _mentioned(r))
        self._memo: dict[tuple[str, Any], list[tuple[str, str | None]]] = {}
        # (rule, the attributes rules read) -> whether the rule holds: a fleet repeats types, images, locations
        self._rule_memo: dict[tuple[int, tuple[tuple[str, Any], ...]], bool] = {}
        self._plain_memo: dict[Any, list[tuple[str, str | None]]] = {}
        self.verdicts = Verdicts(name, schema, unsupported)

    def _plain_key(self, whole: Mapping[str, Any]) -> Any:
        """The verdict key of a whole small block, or None when it must not be kept. A secret attribute's value
        is not in it: in a simple schema the block is valid when the rest is and the secret attribute passes
        its own quick test (its value is then as good as any other valid one)."""
        secret = [k for k in whole if k in self._secret]
        if not secret:
            return ("\0plain", _freeze(whole))
        if not self._simple or not all(k in self._prechecks and self._prechecks[k](whole[k]) for k in secret):
            return None
        return ("\0plain", _freeze({k: ("\0secret", type(v).__name__) if k in secret else v for k, v in whole.items()}))

    @cached_property
    def _whole(self) -> Any:
        return validator(self._whole_schema)

    @cached_property
    def _props(self) -> dict[str, Any]:
        return {k: validator(v) for k, v in self.properties.items()}

    @cached_property
    def _rules(self) -> list[tuple[Any, Mapping[str, Any]]]:
        return [(validator(sub), rule) for sub, rule in self._rule_schemas]

    def _property_problems(self, memo_key: tuple[str, Any], value: Any) -> list[tuple[str, str | None]]:
        """The (message, hint) of each way `value` fails its property's subschema (memoised, and kept between
        runs when it passes)."""
        found = self._memo.get(memo_key)
        if found is None:
            key = memo_key[0]
            found = self._memo[memo_key] = self.verdicts.problems(
                None if key in self._secret else memo_key,
                lambda: [_message(e, key, self.unsupported) for e in self._props[key].iter_errors(value)])
        return found

    def _rule_holds(self, i: int, frozen: tuple[tuple[str, Any], ...], projection: Mapping[str, Any]) -> bool:
        valid = self._rule_memo.get((i, frozen))
        if valid is None:
            kept = not any(name in self._secret for name, _ in frozen)
            valid = self._rule_memo[i, frozen] = not self.verdicts.problems(
                ("\0rule", i, frozen) if kept else None,
                lambda: [] if self._rules[i][0].is_valid(projection) else [i])
        return valid

    def check(self, values: Mapping[str, Any], pos_of: Callable[[str], SourcePos], *,
              settings: Mapping[str, Any] | None = None) -> list[ConfigError]:
        """Problems with `values` (None means unset); `pos_of(attr)` gives the line to name."""
        errors: list[ConfigError] = []
        present = {k: v for k, v in values.items() if v is not None}
        if self.closed and not present.keys() <= self.properties.keys():  # the loop only when one is unknown
            for key in present:
                if key not in self.properties:
                    refused = _unsupported(self.unsupported, "", key, key)
                    errors.append(ConfigError(refused or f'unknown argument "{key}"', pos_of(key),
                                              hint=None if refused else did_you_mean(key, self.properties)))
        for key in self.required if not self._required <= present.keys() else ():
            if key not in present:
                errors.append(ConfigError(f'missing required argument "{key}"', pos_of(""),
                                          hint=f'add {key} = ...'))
        for key, value in present.items():
            if key not in self.properties or value is UNKNOWN:
                continue
            precheck = self._prechecks.get(key)
            if precheck is not None and precheck(value):
                continue
            found = self._property_problems((key, _freeze(value)), value)
            if found:
                errors.extend(ConfigError(msg, pos_of(key), hint=hint) for msg, hint in found)
        projection = {k: v for k, v in present.items() if k in self._rule_keys} if self._rule_schemas else {}
        frozen = tuple(sorted((k, _freeze(v)) for k, v in projection.items()))
        for i, (_, rule) in enumerate(self._rule_schemas):
            skip = rule.get("x-unless-provider-setting")
            if skip and settings and settings.get(skip):
                continue
            if not self._rule_holds(i, frozen, projection):
                attr = rule.get("x-attribute", "")
                errors.append(ConfigError(rule["x-message"], pos_of(attr if attr in present else "")))
        return errors

    def check_plain(self, values: Mapping[str, Any], pos: SourcePos, what: str) -> list[ConfigError]:
        """Check a small block (provider, backend, vars...) in one jsonschema pass."""
        whole = dict(values)
        key = self._plain_key(whole)
        found = self._plain_memo.get(key) if key is not None else None
        if found is None:
            found = self.verdicts.problems(
                key, lambda: [_message(e, "", self.unsupported) for e in self._whole.iter_errors(whole)])
            if key is not None:
                self._plain_memo[key] = found
        return [ConfigError(f"{what}: {msg}", pos, hint=hint) for msg, hint in found]


_ANNOTATIONS = frozenset({"x-message", "writeOnly", "description", "title"})
_SIMPLE_OBJECT = frozenset({"type", "properties", "required", "additionalProperties", "$schema", "$id"}) | _ANNOTATIONS
_STRING_TYPES = ("string", ["string", "null"], ["null", "string"])


def _precheck(sub: Mapping[str, Any]) -> Callable[[Any], bool] | None:
    """A quick test that a value passes a plain subschema (a string with a pattern or a minimum length, or a
    map of strings); anything it does not pass goes through jsonschema for its message.

    Names and flake references are unique per resource, so the memo never hits for them; secrets must not be
    kept; both skip the full validator when valid.
    """
    if sub.get("type") == "object" and sub.get("additionalProperties") == {"type": "string"} and \
            set(sub) <= {"type", "additionalProperties"} | _ANNOTATIONS:
        return lambda value: isinstance(value, dict) and all(type(v) is str for v in value.values())
    if sub.get("type") not in _STRING_TYPES or set(sub) - {"type", "pattern", "minLength"} - _ANNOTATIONS:
        return None
    pattern = re.compile(sub["pattern"]) if "pattern" in sub else None
    min_length = int(sub.get("minLength", 0))

    def passes(value: Any) -> bool:
        return isinstance(value, str) and len(value) >= min_length and (pattern is None or
                                                                         pattern.search(value) is not None)
    return passes


def _mentioned(rule: Any) -> Iterator[str]:
    if isinstance(rule, dict):
        for k, v in rule.items():
            if (k == "required" and isinstance(v, list)) or (k == "properties" and isinstance(v, dict)):
                yield from v
            else:
                yield from _mentioned(v)
    elif isinstance(rule, list):
        for item in rule:
            yield from _mentioned(item)


@cache
def block_schema(name: str) -> BlockSchema:
    """The checker for schema `name` (e.g. "resources/hcloud_server")."""
    return BlockSchema(schemas.load(name), schemas.load("unsupported").get(name), name)
