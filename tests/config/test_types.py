"""Type constraints: parsing `type = ...` expressions and converting values as Terraform does."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.config.hcl_loader import parse_expression
from reconciler.config.json_loader import reference
from reconciler.config.types import TypeSpec, convert, parse_type
from reconciler.errors import ConfigError
from reconciler.values import UNKNOWN
from tests.config.helpers import POS


def t(text: str) -> TypeSpec:
    return parse_type(parse_expression(text, POS))


@pytest.mark.parametrize(("text", "spelling"), [
    ("string", "string"), ("number", "number"), ("bool", "bool"), ("any", "any"),
    ("list(string)", "list(string)"), ("set(number)", "set(number)"), ("map(list(bool))", "map(list(bool))"),
    ("list", "list(any)"), ("map", "map(any)"),
    ("tuple([string, number])", "tuple([string, number])"),
    ('object({name = string, port = optional(number, 22), tags = optional(list(string))})',
     'object({name = string, port = optional(number, 22), tags = optional(list(string))})'),
])
def test_parse_and_spell(text: str, spelling: str) -> None:
    assert str(t(text)) == spelling


def test_json_type_strings_parse_to_the_same_types() -> None:
    assert parse_type(reference("map(object({a = string}))", POS)) == t("map(object({a = string}))")
    assert parse_type(reference("string", POS)) == t("string")


@pytest.mark.parametrize(("text", "fragment"), [
    ("lst(string)", 'unknown type "lst"; did you mean "list"'),
    ("strng", 'unknown type "strng"; did you mean "string"'),
    ('"string"', "a type is written without quotes"),
    ("list(string, number)", "takes exactly one argument"),
    ("tuple(string)", "takes a list of types"),
    ("object([string])", "takes a map of attribute types"),
    ("optional(string)", "only be used for an attribute inside object"),
    ("object({a = optional(number, \"x\")})", 'the default of attribute "a" does not fit its type'),
    ("object({a = optional(string, var.x)})", '"var" cannot be used in a type constraint'),
    ("1", "expected a type"),
])
def test_bad_type_constraints(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        t(text)
    assert fragment in err.value.message and err.value.pos == POS


@pytest.mark.parametrize(("type_text", "value", "expected"), [
    ("number", "3", 3), ("number", "2.5", 2.5), ("number", 4.0, 4), ("string", 3, "3"), ("string", True, "true"),
    ("string", 1.5, "1.5"), ("bool", "true", True), ("bool", "false", False), ("bool", True, True),
    ("any", {"a": [1]}, {"a": [1]}), ("number", None, None), ("string", UNKNOWN, UNKNOWN),
    ("list(number)", ["1", 2], [1, 2]), ("set(string)", ["b", "a", "b"], ["a", "b"]),
    ("set(number)", [3, "1"], [1, 3]), ("map(string)", {"a": 1, "b": False}, {"a": "1", "b": "false"}),
    ("tuple([string, number])", [1, "2"], ["1", 2]),
    ("list(any)", [1, "a"], [1, "a"]),
    ("object({name = string, port = optional(number, 22), tags = optional(list(string))})",
     {"name": "web", "extra": 1}, {"name": "web", "port": 22, "tags": None}),
    ("object({name = string, port = optional(number, 22)})", {"name": "web", "port": "2222"},
     {"name": "web", "port": 2222}),
    ("object({port = optional(number, 22)})", {"port": None}, {"port": 22}),
    ("map(object({type = string, location = optional(string, \"fsn1\")}))",
     {"m1": {"type": "cx22"}, "m2": {"type": "cx32", "location": "hel1"}},
     {"m1": {"type": "cx22", "location": "fsn1"}, "m2": {"type": "cx32", "location": "hel1"}}),
    ("list(number)", [1, UNKNOWN], [1, UNKNOWN]),
])
def test_convert(type_text: str, value: Any, expected: Any) -> None:
    result = convert(value, t(type_text), POS, "v")
    assert result == expected
    if not isinstance(expected, list | dict):
        assert type(result) is type(expected)


@pytest.mark.parametrize(("type_text", "value", "message"), [
    ("number", "abc", 'invalid value for variable "n": a number is required, got string "abc"'),
    ("number", True, 'invalid value for variable "n": a number is required, got bool true'),
    ("bool", "yes", 'invalid value for variable "n": a bool is required, got string "yes"'),
    ("string", [1], 'invalid value for variable "n": a string is required, got list'),
    ("list(string)", "a", 'invalid value for variable "n": a list is required, got string "a"'),
    ("list(number)", [1, "x"], 'invalid value for variable "n": element 1: a number is required, got string "x"'),
    ("map(number)", {"a": "x"}, 'invalid value for variable "n": element "a": a number is required'),
    ("map(string)", ["a"], 'invalid value for variable "n": a map is required, got list'),
    ("tuple([string])", ["a", "b"], 'invalid value for variable "n": a tuple of 1 elements is required, got 2'),
    ("object({a = string})", {}, 'invalid value for variable "n": attribute "a" is required'),
    ("object({a = object({b = number})})", {"a": {"b": "x"}},
     'invalid value for variable "n": attribute "a", attribute "b": a number is required'),
    ("object({a = string})", "s", 'invalid value for variable "n": an object is required, got string "s"'),
    ("set(string)", [None], 'invalid value for variable "n": a set cannot contain null values'),
])
def test_convert_errors(type_text: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        convert(value, t(type_text), POS, "n")
    assert err.value.message.startswith(message)
    assert err.value.pos == POS
