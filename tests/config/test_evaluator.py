"""The evaluator: Terraform's operator rules, traversals, templates, for expressions, UNKNOWN propagation
and errors at the position of the faulty expression."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.config.evaluator import evaluate
from reconciler.config.hcl_loader import load_hcl_text
from reconciler.errors import ConfigError, SourcePos
from reconciler.values import UNKNOWN
from tests.config.helpers import POS, DictScope, ev

U = UNKNOWN
ROOTS: dict[str, Any] = {
    "var": {"n": 3, "s": "5", "l": ["a", "b"], "m": {"x": 1, "y": 2}, "t": True, "nothing": None,
            "objs": [{"name": "a", "ip": "10.0.0.1"}, {"name": "b", "ip": U}], "u": U, "lu": ["a", U],
            "mu": {"k": U}},
    "hcloud_server": {"web": {"a": {"ipv4_address": "1.2.3.4", "id": U}}, "list": [{"id": "1"}, {"id": "2"}]},
}


def run(text: str) -> Any:
    return ev(text, DictScope(**ROOTS))


@pytest.mark.parametrize(("text", "value"), [
    ("1 + 2 * 3", 7), ("10 - 4 - 3", 3), ("7 / 2", 3.5), ("8 / 2", 4), ("1.5 * 2", 3), ("7 % 3", 1),
    ("-7 % 3", -1), ("7 % -3", 1), ("5.5 % 2", 1.5), ('"3" + 1', 4), ('"1.5" * "2"', 3), ("var.s * 2", 10),
    ("-var.n", -3), ("-(-2)", 2), ("2 < 3", True), ("3 <= 3", True), ("2 > 3", False), ('"10" >= 9', True),
    ("1 == 1.0", True), ('1 == "1"', False), ('"a" != "b"', True), ("null == null", True),
    ("var.nothing == null", True), ("[1, 2] == [1, 2]", True), ("{a = 1} == {a = 1}", True),
    ("{a = 1} == {a = 2}", False), ("[1] == [1, 2]", False), ("true == 1", False),
    ("true && false", False), ("true || false", True), ("!var.t", False), ('"true" && true', True),
    ("12345678901234567890 + 1", 12345678901234567891),
])
def test_operators(text: str, value: Any) -> None:
    result = run(text)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(("text", "fragment"), [
    ('"abc" + 1', 'invalid operand for +: a number is required, got string "abc"'),
    ("true + 1", "a number is required, got bool true"),
    ("null * 2", "a number is required, got null"),
    ("[1] < 2", "a number is required, got list"),
    ("1 / 0", "division by zero"),
    ("1 % 0", "modulo by zero"),
    ("1 && true", "invalid operand for &&: a bool is required, got number 1"),
    ("!\"x\"", "a bool is required"),
    ('-"x"', "invalid operand for -"),
    ("1 ? 2 : 3", "the condition must be true or false, got number 1"),
    ("var.nothing ? 2 : 3", "the condition is null"),
])
def test_operator_errors(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        run(text)
    assert fragment in err.value.message
    assert err.value.pos == POS


def test_conditional_evaluates_only_the_chosen_branch() -> None:
    assert run('var.t ? "yes" : var.l[99]') == "yes"
    assert run('!var.t ? var.l[99] : "no"') == "no"
    assert run('"true" ? 1 : 2') == 1


@pytest.mark.parametrize(("text", "value"), [
    ("var.l[1]", "b"), ('var.l["1"]', "b"), ("var.l[1.0]", "b"), ("var.m.x", 1), ('var.m["y"]', 2),
    ("hcloud_server.web[\"a\"].ipv4_address", "1.2.3.4"), ("hcloud_server.list[1].id", "2"),
    ("var.objs[*].name", ["a", "b"]), ("var.objs.*.name", ["a", "b"]), ("var.nothing[*]", []),
    ("var.m[*]", [{"x": 1, "y": 2}]), ("hcloud_server.list[*].id", ["1", "2"]), ("var.l.0", "a"),
])
def test_traversals(text: str, value: Any) -> None:
    assert run(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("var.l[2]", "invalid index: the list has 2 elements, index 2"),
    ("var.l[-1]", "invalid index: the list has 2 elements, index -1"),
    ('var.l["x"]', 'invalid index: a list index must be a whole number, got string "x"'),
    ("var.l[0.5]", "a list index must be a whole number"),
    ('var.m["z"]', 'invalid index: the map has no element for key "z"'),
    ("var.nothing[0]", "invalid index: cannot index a null value"),
    ("var.n[0]", "invalid index: a number cannot be indexed"),
    ("var.l[null]", "the index is null"),
    ("var.m.z", 'unsupported attribute "z"'),
    ("var.nothing.a", 'cannot read attribute "a" of a null value'),
    ("var.objs.name", 'cannot read attribute "name" of a list'),
    ("var.region", 'undefined variable "var.region"'),
    ("nope.x", 'unknown name "nope"'),
])
def test_traversal_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        run(text)
    assert message in err.value.message


def test_undefined_local_and_did_you_mean_for_attributes() -> None:
    with pytest.raises(ConfigError, match=r'undefined local value "local\.b"'):
        ev("local.b", local={"a": 1})
    with pytest.raises(ConfigError, match='did you mean "ipv4_address"'):
        run('hcloud_server.web["a"].ipv4_adress')


def test_errors_carry_the_position_of_the_faulty_expression() -> None:
    f = load_hcl_text('locals {\n  a = [\n    1,\n    var.l[5],\n  ]\n}\n', "main.tf")
    with pytest.raises(ConfigError) as err:
        evaluate(f.body.blocks[0].body.attributes[0].expr, DictScope(**ROOTS))
    assert err.value.pos == SourcePos("main.tf", 4)


@pytest.mark.parametrize(("text", "value"), [
    ('"n=${var.n}"', "n=3"), ('"${var.n}"', 3), ('"${1.5} ${true} ${"s"}"', "1.5 true s"),
    ('"%{ if var.t }on%{ else }off%{ endif }"', "on"), ('"%{ if !var.t }on%{ else }off%{ endif }"', "off"),
    ('"%{ for x in var.l }<${x}>%{ endfor }"', "<a><b>"),
    ('"%{ for k, v in var.m }${k}=${v};%{ endfor }"', "x=1;y=2;"),
    ('"%{ for i, x in var.l }${i}${x}%{ endfor }"', "0a1b"),
    ('"%{ for x in var.l ~}  ${x}  %{~ endfor }"', "ab"),
])
def test_templates(text: str, value: Any) -> None:
    assert run(text) == value


@pytest.mark.parametrize(("text", "fragment"), [
    ('"a${var.nothing}"', "null"), ('"a${var.l}"', "cannot include a list"), ('"a${var.m}"', "cannot include a map"),
    ('"%{ if 1 }x%{ endif }"', "%{if} condition must be true or false"),
])
def test_template_errors(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("{", r"\{").replace("}", r"\}")):
        run(text)


@pytest.mark.parametrize(("text", "value"), [
    ("[for x in var.l : upper(x)]", ["A", "B"]),
    ("[for i, x in var.l : i]", [0, 1]),
    ("[for k, v in var.m : k if v > 1]", ["y"]),
    ("{for k, v in var.m : v => k}", {"1": "x", "2": "y"}),
    ("{for x in [\"a\", \"b\", \"a\"] : x => x...}", {"a": ["a", "a"], "b": ["b"]}),
    ("{for o in var.objs : o.name => o.ip}", {"a": "10.0.0.1", "b": U}),
    ("[for x in [] : x]", []),
    ("{for k, v in {b = 1, a = 2} : k => v}", {"a": 2, "b": 1}),
    ("[for x in var.l : [for y in var.l : \"${x}${y}\"]]", [["aa", "ab"], ["ba", "bb"]]),
])
def test_for_expressions(text: str, value: Any) -> None:
    assert run(text) == value


def test_for_expression_variables_shadow_roots_and_do_not_leak() -> None:
    assert run("[for var in [1, 2] : var * 2]") == [2, 4]
    assert run("[[for x in [1] : x], var.n]") == [[1], 3]


@pytest.mark.parametrize(("text", "fragment"), [
    ('{for x in ["a", "a"] : x => 1}', 'duplicate key "a" in for expression'),
    ("[for x in var.nothing : x]", "cannot iterate over a null value"),
    ("[for x in 3 : x]", "needs a list or a map"),
    ("[for x in var.l : x if x]", "if condition must be true or false"),
    ("{for x in var.l : [x] => x}", "an object key must be a string, got list"),
])
def test_for_expression_errors(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        run(text)


def test_objects_and_tuples() -> None:
    assert run('{a = 1, "b-c" = [var.n, "x"], (var.s) = true}') == {"a": 1, "b-c": [3, "x"], "5": True}
    with pytest.raises(ConfigError, match='duplicate key "a"'):
        run("{a = 1, a = 2}")
    with pytest.raises(ConfigError, match="must not be null"):
        run("{(var.nothing) = 1}")


@pytest.mark.parametrize(("text", "value"), [
    ("var.u", U), ("var.u + 1", U), ("1 - var.u", U), ("var.u == 1", U), ("var.u != 1", U), ("!var.u", U),
    ("-var.u", U), ("var.u < 3", U), ("var.u && true", U), ("var.u && false", False), ("var.u || true", True),
    ('"x-${var.u}"', U), ("var.u ? 1 : 2", U), ("var.u[0]", U), ("var.l[var.u]", U), ("var.u.attr", U),
    ("var.u[*].a", U), ("[for x in var.u : x]", U), ("{(var.u) = 1}", U), ("upper(var.u)", U),
    ("length(var.lu)", 2), ("length(var.u)", U), ("var.lu[0]", "a"), ("var.lu[1]", U), ("var.mu.k", U),
    ("keys(var.mu)", ["k"]), ("[var.u, 1]", [U, 1]), ("{a = var.u}", {"a": U}), ("var.objs[*].ip", ["10.0.0.1", U]),
    ('join(",", var.lu)', U), ("jsonencode(var.mu)", U), ('format("%s", var.u)', U),
    ('coalesce("a", var.u)', "a"), ("coalesce(null, var.u)", U), ('contains(var.lu, "a")', True),
    ('contains(var.lu, "z")', U), ("[var.u] == [1, 2]", False), ('"%{ if var.u }a%{ endif }"', U),
    ('"%{ for x in var.u }a%{ endfor }"', U), ("[for x in var.l : x if var.u]", U),
    ("{for x in var.l : var.u => x}", U), ("merge(var.mu, {b = 1})", {"k": U, "b": 1}),
    ("toset(var.lu)", U), ("concat(var.lu, [1])", ["a", U, 1]),
])
def test_unknown_propagation(text: str, value: Any) -> None:
    assert run(text) == value


def test_function_expansion() -> None:
    assert run("concat([var.objs[*].name, var.l]...)") == ["a", "b", "a", "b"]
    assert run("merge([{a = 1}, {b = 2}]...)") == {"a": 1, "b": 2}
    assert run("concat(var.u...)") is U
    with pytest.raises(ConfigError, match=r"expanded with \.\.\. must be a list"):
        run("concat(var.n...)")


def test_unknown_function_is_reported_before_arguments_are_evaluated() -> None:
    with pytest.raises(ConfigError, match='unknown function "lenght"; did you mean "length"'):
        run("lenght(var.l[99])")


def test_scope_lookup_errors_pass_through() -> None:
    with pytest.raises(ConfigError) as err:
        ev("count.index")
    assert err.value.message == 'unknown name "count"' and err.value.pos == POS
