"""The Terraform functions: results, Terraform's conversions and ordering, and one-line argument errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.config.functions import FUNCTIONS
from reconciler.errors import ConfigError
from tests.config.helpers import DictScope, ev

VAR = {"m": {"b": 2, "a": 1}, "l": ["x", "y"], "nothing": None}


def run(text: str, base_dir: Path | None = None) -> Any:
    return ev(text, DictScope(base_dir, var=VAR))


def test_the_contract_functions_are_all_there() -> None:
    named = ["length", "lookup", "merge", "concat", "contains", "keys", "values", "join", "split", "format", "lower",
             "upper", "tostring", "tonumber", "toset", "jsonencode", "jsondecode", "file", "coalesce", "flatten",
             "try", "can", "templatefile", "cidrsubnet", "formatlist", "base64encode", "yamlencode", "replace",
             "tolist", "tomap", "cidrhost", "min", "max", "range", "element", "distinct", "sort", "zipmap",
             "regex", "trimspace", "startswith", "sha256", "nonsensitive"]
    assert set(named) <= set(FUNCTIONS)


def test_every_function_imported_on_first_call_exists() -> None:
    """The collection, encoding, file and network functions are imported when first called: each name in the
    table must be one its module defines, or a configuration would learn of a typo only when it calls it."""
    import importlib

    deferred = {fn.impl.__qualname__ for fn in FUNCTIONS.values() if fn.impl.__qualname__.startswith("functions_")}
    assert len(deferred) > 60
    for qualname in deferred:
        module, name = qualname.split(".")
        assert callable(getattr(importlib.import_module(f"reconciler.config.{module}"), name)), qualname


@pytest.mark.parametrize(("text", "value"), [
    ("length([1, 2, 3])", 3), ("length({a = 1})", 1), ('length("héllo")', 5), ("length([])", 0),
    ('lookup(var.m, "a")', 1), ('lookup(var.m, "z", "d")', "d"), ('lookup({a = null}, "a", 1)', None),
    ("merge(var.m, {a = 9, c = 3})", {"b": 2, "a": 9, "c": 3}), ("merge()", {}), ("merge(null, {a = 1})", {"a": 1}),
    ("concat([1], [], [2, 3])", [1, 2, 3]), ("concat()", []),
    ('contains(["a", "b"], "b")', True), ('contains(["a"], "c")', False), ("contains([1, 2], 2.0)", True),
    ('contains(["1"], 1)', False),
    ("keys(var.m)", ["a", "b"]), ("values(var.m)", [1, 2]),
    ('join(", ", var.l)', "x, y"), ('join("-", ["a"], ["b", "c"])', "a-b-c"), ('join("-", [1, true])', "1-true"),
    ('join("-", [])', ""),
    ('split(",", "a,b,,c")', ["a", "b", "", "c"]), ('split(",", "")', [""]), ('split("", "abc")', ["a", "b", "c"]),
    ('lower("ÀB")', "àb"), ('upper("ab1")', "AB1"), ("upper(1)", "1"),
    ("tostring(1)", "1"), ("tostring(2.50)", "2.5"), ("tostring(true)", "true"), ("tostring(null)", None),
    ('tostring("s")', "s"), ("tostring(0.1 + 0.2)", "0.3"), ("tostring(1e-7)", "0.0000001"),
    ('tonumber("42")', 42), ('tonumber("-1.5")', -1.5), ('tonumber("1e3")', 1000), ("tonumber(7)", 7),
    ("tonumber(null)", None),
    ('toset(["b", "a", "b"])', ["a", "b"]), ("toset([3, 1, 3, 2])", [1, 2, 3]), ('toset(["a", 1])', ["1", "a"]),
    ("toset([])", []), ("toset([{a = 1}, {a = 1}, {a = 2}])", [{"a": 1}, {"a": 2}]),
    ('jsonencode({b = [1, "x", true, null], a = {c = 1.5}})', '{"a":{"c":1.5},"b":[1,"x",true,null]}'),
    ('jsonencode("<a & b>")', '"\\u003ca \\u0026 b\\u003e"'), ('jsonencode("é")', '"é"'), ("jsonencode(2.0)", "2"),
    ('jsondecode("{\\"a\\": [1, 2.0, null]}")', {"a": [1, 2, None]}), ('jsondecode("\\"s\\"")', "s"),
    ('coalesce(null, "", "a", "b")', "a"), ("coalesce(null, 0)", 0), ('coalesce("", false)', "false"),
])
def test_results(text: str, value: Any) -> None:
    result = run(text)
    same_type = type(result) is type(value) or (type(value) is list and isinstance(result, list))  # a set is a list
    assert result == value and same_type


@pytest.mark.parametrize(("text", "value"), [
    ('format("%s-%d", "a", 3)', "a-3"), ('format("%5s|%-5s|", "ab", "cd")', "   ab|cd   |"),
    ('format("%05d|%+d|%d", 42, 7, -3)', "00042|+7|-3"), ('format("%f", 3.14159)', "3.141590"),
    ('format("%.2f", 3.14159)', "3.14"), ('format("%8.3f", 2.5)', "   2.500"), ('format("%.0f", 2.5)', "2"),
    ('format("%v %v %v", "s", 1, true)', "s 1 true"), ('format("%v", [1, "a"])', '[1,"a"]'),
    ('format("%v", {b = 1, a = 2})', '{"a":2,"b":1}'), ('format("%v", null)', "null"),
    ('format("%q", "say \\"hi\\"")', '"say \\"hi\\""'), ('format("%t %t", true, "false")', "true false"),
    ('format("100%%")', "100%"), ('format("%s", 1.5)', "1.5"), ('format("%d", "12")', "12"),
    ('format("%[2]s %[1]s", "a", "b")', "b a"), ('format("%.3s", "abcdef")', "abc"),
    ('format("%s", "héllo")', "héllo"), ('format("%-4d|", 7)', "7   |"),
])
def test_format(text: str, value: str) -> None:
    assert run(text) == value


@pytest.mark.parametrize(("text", "fragment"), [
    ('format("%d", 1.5)', "format(): %d (argument 1): a whole number is required, got number 1.5"),
    ('format("%d", "x")', "a number is required"),
    ('format("%s %s", "a")', "not enough arguments for %s: needs argument 2, got 1"),
    ('format("%s", "a", "b")', "too many arguments"),
    ('format("%y", 1)', "unsupported verb %y"),
    ('format("%s", [1])', "a string is required, got list"),
    ('format("%s", null)', "null cannot be formatted"),
    ('format("%t", 1)', "a bool is required"),
    ('format("50%")', "lone %"),
])
def test_format_errors(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        run(text)
    assert err.value.message.startswith("Invalid function argument: format()")
    assert fragment in err.value.message


@pytest.mark.parametrize(("text", "message"), [
    ("upper(1, 2)", "Invalid function argument: upper() takes 1 argument, got 2"),
    ("lookup({})", "Invalid function argument: lookup() takes 2 to 3 arguments, got 1"),
    ("join()", "Invalid function argument: join() takes at least 2 arguments, got 0"),
    ("coalesce()", "Invalid function argument: coalesce() takes at least 1 argument, got 0"),
    ("length(null)", "Invalid function argument: length(): the argument must not be null"),
    ("length(1)", "Invalid function argument: length(): the argument must be a list, map or string, got number 1"),
    ('lookup(var.m, "z")', 'Invalid function argument: lookup(): the map has no key "z" and no default was given'),
    ('lookup([], "a")', "Invalid function argument: lookup(): the first argument must be a map or object, got list"),
    ("merge({}, [1])", "Invalid function argument: merge(): argument 2 must be a map or object, got list"),
    ('concat([1], "a")', 'Invalid function argument: concat(): argument 2 must be a list, got string "a"'),
    ("keys([1])", "Invalid function argument: keys(): the argument must be a map or object, got list"),
    ('join(",", [null])', "Invalid function argument: join(): argument 2 has a null element"),
    ('join(",", [[1]])', "Invalid function argument: join(): each element of argument 2 must be a string, got list"),
    ("lower([])", "Invalid function argument: lower(): the argument must be a string, got list"),
    ("tostring([1])", "Invalid function argument: tostring(): cannot convert a list to a string"),
    ('tonumber("abc")', 'Invalid function argument: tonumber(): cannot convert string "abc" to a number'),
    ("tonumber(true)", "Invalid function argument: tonumber(): cannot convert bool true to a number"),
    ("toset({})", "Invalid function argument: toset(): the argument must be a list, got map"),
    ("toset([null])", "Invalid function argument: toset(): a set cannot contain null values"),
    ('jsondecode("{x")', "Invalid function argument: jsondecode(): invalid JSON: Expecting property name"),
    ('coalesce(null, "")', "Invalid function argument: coalesce(): no non-null, non-empty-string arguments"),
    ('lenght("x")', 'unknown function "lenght"; did you mean "length"?'),
    ("cidrsubnett(1)", 'unknown function "cidrsubnett"'),
])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        run(text)
    assert err.value.message.startswith(message)
    assert "\n" not in err.value.message


def test_unknown_function_without_close_match_points_to_the_list() -> None:
    with pytest.raises(ConfigError) as err:
        run("zzzzzz()")
    assert err.value.hint is not None and "docs/terraform-language.md" in err.value.hint


def test_file_reads_relative_to_the_base_dir(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "admin.pub").write_text("ssh-ed25519 AAAA admin\n")
    assert run('file("keys/admin.pub")', tmp_path) == "ssh-ed25519 AAAA admin\n"
    assert run(f'file("{tmp_path / "keys" / "admin.pub"}")', Path("/")) == "ssh-ed25519 AAAA admin\n"
    with pytest.raises(ConfigError) as err:
        run('file("nope.pub")', tmp_path)
    assert 'no file exists at "nope.pub"' in err.value.message
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        run('file("bin")', tmp_path)
