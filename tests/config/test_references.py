"""references(): the exact static references of an expression, for the dependency graph."""

from __future__ import annotations

import pytest

from reconciler.config.evaluator import references
from reconciler.config.hcl_loader import load_hcl_text, parse_expression
from reconciler.config.json_loader import template
from reconciler.errors import SourcePos
from tests.config.helpers import POS


def refs(text: str) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(r.root, r.steps) for r in references(parse_expression(text, POS))]


@pytest.mark.parametrize(("text", "expected"), [
    ('hcloud_server.web["a"].ipv4_address', [("hcloud_server", ("web", "a", "ipv4_address"))]),
    ("hcloud_server.web[0].id", [("hcloud_server", ("web", 0, "id"))]),
    ("hcloud_server.web.0.id", [("hcloud_server", ("web", 0, "id"))]),
    ("count.index", [("count", ("index",))]),
    ("each.value.name", [("each", ("value", "name"))]),
    ("var.x", [("var", ("x",))]),
    ("local", [("local", ())]),
    ("1 + 2", []),
    ('"plain"', []),
    ('"${var.a}-${local.b}"', [("var", ("a",)), ("local", ("b",))]),
    ("var.a ? local.b : hcloud_server.c.id", [("var", ("a",)), ("local", ("b",)), ("hcloud_server", ("c", "id"))]),
    ("merge(local.labels, {role = var.role})", [("local", ("labels",)), ("var", ("role",))]),
    ("{(var.k) = 1}", [("var", ("k",))]),
    ("-var.n", [("var", ("n",))]),
    ("[var.a, [var.b]]", [("var", ("a",)), ("var", ("b",))]),
])
def test_static_references(text: str, expected: list[tuple[str, tuple[str | int, ...]]]) -> None:
    assert refs(text) == expected


def test_dynamic_index_ends_the_chain_and_is_walked() -> None:
    assert refs("hcloud_server.web[var.name].ipv4_address") == [("hcloud_server", ("web",)), ("var", ("name",))]
    assert refs("local.m[local.k[count.index]].x") == [
        ("local", ("m",)), ("local", ("k",)), ("count", ("index",))]


def test_splats_keep_the_part_before_the_splat() -> None:
    assert refs("hcloud_server.web[*].ipv4_address") == [("hcloud_server", ("web",))]
    assert refs("hcloud_server.web.*.ipv4_address[0]") == [("hcloud_server", ("web",))]
    assert refs("var.x[*][var.i]") == [("var", ("x",)), ("var", ("i",))]


def test_for_expression_variables_are_not_references() -> None:
    assert refs("{for k, s in hcloud_server.web : k => s.ipv4_address if s.id != var.skip}") == [
        ("hcloud_server", ("web",)), ("var", ("skip",))]
    assert refs("[for x in var.l : [for y in x : y + local.z]]") == [("var", ("l",)), ("local", ("z",))]
    # a for variable shadows a root only inside the for expression
    assert refs("[[for var in [1] : var.x], var.y]") == [("var", ("y",))]


def test_template_directive_variables_are_not_references() -> None:
    e = parse_expression('"%{ for n in var.names }${n}${local.sep}%{ endfor }%{ if var.c }x%{ endif }"', POS)
    assert [(r.root, r.steps) for r in references(e)] == [
        ("var", ("names",)), ("local", ("sep",)), ("var", ("c",))]


def test_references_from_function_results_and_expansions() -> None:
    assert refs("concat(var.a, local.b...)") == [("var", ("a",)), ("local", ("b",))]
    assert refs("jsondecode(var.j).key") == [("var", ("j",))]
    assert refs("lookup(var.m, var.k)[var.i]") == [("var", ("m",)), ("var", ("k",)), ("var", ("i",))]


def test_reference_positions() -> None:
    f = load_hcl_text('locals {\n  a = [\n    var.x,\n    local.y.z,\n  ]\n}\n', "main.tf")
    found = references(f.body.blocks[0].body.attributes[0].expr)
    assert [(r.root, r.pos) for r in found] == [("var", SourcePos("main.tf", 3)), ("local", SourcePos("main.tf", 4))]


def test_json_fast_path_references_match() -> None:
    e = template('${hcloud_server.m0001["a"].ipv4_address}', POS)
    assert [(r.root, r.steps) for r in references(e)] == [("hcloud_server", ("m0001", "a", "ipv4_address"))]
