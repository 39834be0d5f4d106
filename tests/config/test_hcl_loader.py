"""The HCL loader: every construct lowers to the right syntax node, with lines; syntax errors name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import syntax as s
from reconciler.config.hcl_loader import load_hcl_file, load_hcl_text, parse_expression
from reconciler.errors import ConfigError, SourcePos
from tests.config.helpers import POS, shape


def expr(text: str) -> s.Expr:
    return parse_expression(text, POS)


def attr(source: str, name: str = "a") -> s.Expr:
    body = load_hcl_text(source, "main.tf").body
    found = body.attribute(name)
    assert found is not None
    return found.expr


def lit(value: object) -> tuple[object, ...]:
    return ("Literal", value)


def ref(name: str) -> tuple[object, ...]:
    return ("ScopeRef", name)


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("-3", -3), ("1.5", 1.5), ("1.0", 1), ("1e3", 1000), ("2.5e-1", 0.25), ("true", True),
    ("false", False), ("null", None), ('"abc"', "abc"), ('""', ""),
    (r'"a\nb\tc\"d\\e"', 'a\nb\tc"d\\e'), (r'"\u00e9\U0001F600"', "é\U0001F600"),
    ('"$${x}"', "${x}"), ('"%%{x}"', "%{x}"), ('"cost: $5, 100%"', "cost: $5, 100%"),
])
def test_literals(text: str, value: object) -> None:
    e = expr(text)
    assert isinstance(e, s.Literal)
    assert e.value == value and type(e.value) is type(value)


def test_invalid_escape_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r'invalid escape sequence "\\q"'):
        load_hcl_text('a = "x\\q"\n', "main.tf")


def test_identifiers_traversals_and_short_index() -> None:
    assert shape(expr("var.region")) == ("GetAttr", ref("var"), "region")
    assert shape(expr("a.0.b")) == ("GetAttr", ("Index", ref("a"), lit(0)), "b")
    assert shape(expr('a["k"][1]')) == ("Index", ("Index", ref("a"), lit("k")), lit(1))
    assert shape(expr("a-b")) == ref("a-b")  # HCL identifiers may hold dashes
    assert shape(expr("a - b")) == ("BinaryOp", "-", ref("a"), ref("b"))


def test_splats() -> None:
    splat = ("Splat", ref("a"), ("GetAttr", ("Index", ("GetAttr", ref("__splat__"), "b"), lit(0)), "c"))
    assert shape(expr("a[*].b[0].c")) == splat
    assert shape(expr("a.*.b")) == ("Splat", ref("a"), ("GetAttr", ref("__splat__"), "b"))
    assert shape(expr("a[*]")) == ("Splat", ref("a"), ref("__splat__"))


def test_function_calls() -> None:
    assert shape(expr("f()")) == ("Call", "f", (), False)
    assert shape(expr("f(1, x)")) == ("Call", "f", (lit(1), ref("x")), False)
    assert shape(expr("f(1, x...)")) == ("Call", "f", (lit(1), ref("x")), True)
    assert shape(expr("f(\n  1,\n  2,\n)")) == ("Call", "f", (lit(1), lit(2)), False)
    assert shape(expr("provider::p::f(1)")) == ("Call", "provider::p::f", (lit(1),), False)


def test_operator_precedence() -> None:
    assert shape(expr("1 + 2 * 3")) == ("BinaryOp", "+", lit(1), ("BinaryOp", "*", lit(2), lit(3)))
    assert shape(expr("(1 + 2) * 3")) == ("BinaryOp", "*", ("BinaryOp", "+", lit(1), lit(2)), lit(3))
    assert shape(expr("1 - 2 - 3")) == ("BinaryOp", "-", ("BinaryOp", "-", lit(1), lit(2)), lit(3))
    assert shape(expr("a || b && c")) == ("BinaryOp", "||", ref("a"), ("BinaryOp", "&&", ref("b"), ref("c")))
    assert shape(expr("a == b < c")) == ("BinaryOp", "==", ref("a"), ("BinaryOp", "<", ref("b"), ref("c")))
    assert shape(expr("!a && -b > 1")) == ("BinaryOp", "&&", ("UnaryOp", "!", ref("a")),
                                           ("BinaryOp", ">", ("UnaryOp", "-", ref("b")), lit(1)))
    for op in ("||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"):
        assert shape(expr(f"x {op} y")) == ("BinaryOp", op, ref("x"), ref("y"))


def test_operator_continued_on_next_line() -> None:
    assert shape(attr("a = 1\n  + 2\nb = 3\n")) == ("BinaryOp", "+", lit(1), lit(2))


def test_conditional() -> None:
    assert shape(expr('x ? "a" : "b"')) == ("Conditional", ref("x"), lit("a"), lit("b"))
    nested = expr("a ? 1 : b ? 2 : 3")
    assert shape(nested) == ("Conditional", ref("a"), lit(1), ("Conditional", ref("b"), lit(2), lit(3)))


def test_collections() -> None:
    assert shape(expr("[1, \"a\", [],]")) == ("TupleExpr", (lit(1), lit("a"), ("TupleExpr", ())))
    obj = expr('{ a = 1, "b" = 2, (k) = 3, c: 4, for = 5 }')
    assert shape(obj) == ("ObjectExpr", ((lit("a"), lit(1)), (lit("b"), lit(2)), (ref("k"), lit(3)),
                                         (lit("c"), lit(4)), (lit("for"), lit(5))))
    multiline = attr('a = {\n  x = 1\n  y = "z"\n}\n')
    assert shape(multiline) == ("ObjectExpr", ((lit("x"), lit(1)), (lit("y"), lit("z"))))


def test_for_expressions() -> None:
    assert shape(expr("[for v in xs : upper(v)]")) == (
        "ForExpr", None, "v", ref("xs"), None, ("Call", "upper", (ref("v"),), False), None, False)
    assert shape(expr("[for i, v in xs : v if i > 0]")) == (
        "ForExpr", "i", "v", ref("xs"), None, ref("v"), ("BinaryOp", ">", ref("i"), lit(0)), False)
    assert shape(expr("{for k, v in m : v => k...}")) == (
        "ForExpr", "k", "v", ref("m"), ref("v"), ref("k"), None, True)


def test_templates() -> None:
    assert shape(expr('"${x}"')) == ref("x")  # one interpolation keeps the value's type
    assert shape(expr('"a-${x}-b"')) == ("Template", (lit("a-"), ref("x"), lit("-b")))
    assert shape(expr('"%{if c}yes%{else}no%{endif}"')) == (
        "Template", (("TemplateIf", ref("c"), (lit("yes"),), (lit("no"),)),))
    assert shape(expr('"%{if c}yes%{endif}!"')) == (
        "Template", (("TemplateIf", ref("c"), (lit("yes"),), ()), lit("!")))
    assert shape(expr('"%{for k, v in m}${k}=${v};%{endfor}"')) == (
        "Template", (("TemplateFor", "k", "v", ref("m"), (ref("k"), lit("="), ref("v"), lit(";"))),))


def test_template_strip_markers() -> None:
    assert shape(expr('"a %{~ if c ~} b %{~ endif ~} c"')) == (
        "Template", (lit("a"), ("TemplateIf", ref("c"), (lit("b"),), ()), lit("c")))


def test_unbalanced_directives_are_errors() -> None:
    with pytest.raises(ConfigError, match="not closed"):
        expr('"%{if c}yes"')
    with pytest.raises(ConfigError, match="without a matching"):
        expr('"yes%{endif}"')


def test_heredocs() -> None:
    src = 'a = <<EOF\nline ${x}\n  "quoted" \\n\nEOF\nb = <<-EOT\n    one\n      two\n    EOT\nc = <<E\nE\n'
    body = load_hcl_text(src, "main.tf").body
    assert shape(body.attribute("a").expr) == (  # type: ignore[union-attr]
        "Template", (lit("line "), ref("x"), lit('\n  "quoted" \\n\n')))
    assert shape(body.attribute("b").expr) == lit("one\n  two\n")  # type: ignore[union-attr]
    assert shape(body.attribute("c").expr) == lit("")  # type: ignore[union-attr]


def test_heredoc_keeps_escapes_literal_and_interpolation_quotes() -> None:
    e = attr('a = <<EOF\n${lookup(m, "k")} $${raw}\nEOF\n')
    assert shape(e) == ("Template", (("Call", "lookup", (ref("m"), lit("k")), False), lit(" ${raw}\n")))


def test_blocks_labels_and_lines() -> None:
    src = ('# comment\nresource "hcloud_server" "web" {\n  name = "web"\n\n  public_net {\n'
           "    ipv4_enabled = true\n  }\n}\n\nlocals {\n  x = 1\n}\nbare label {\n}\n")
    f = load_hcl_text(src, "main.tf")
    server, locals_, bare = f.body.blocks
    assert (server.type, server.labels, server.pos) == ("resource", ("hcloud_server", "web"), SourcePos("main.tf", 2))
    assert server.body.attributes[0].pos == SourcePos("main.tf", 3)
    nested = server.body.blocks[0]
    assert (nested.type, nested.pos.line, nested.body.attributes[0].pos.line) == ("public_net", 5, 6)
    assert (locals_.pos.line, locals_.body.attributes[0].name) == (10, "x")
    assert (bare.type, bare.labels) == ("bare", ("label",))
    assert f.text == src and f.path == "main.tf"


def test_multiline_expression_nodes_carry_their_own_lines() -> None:
    e = attr('a = [\n  "x",\n  var.y,\n]\n')
    assert isinstance(e, s.TupleExpr)
    assert [e.pos.line, e.items[0].pos.line, e.items[1].pos.line] == [1, 2, 3]


def test_duplicate_attribute() -> None:
    with pytest.raises(ConfigError) as err:
        load_hcl_text('resource "a" "b" {\n  name = "a"\n  name = "b"\n}\n', "main.tf")
    assert err.value.lines() == ['main.tf:3: attribute "name" is set twice; first set at main.tf:2']


def test_interpolated_block_label_is_an_error() -> None:
    with pytest.raises(ConfigError, match="literal string") as err:
        load_hcl_text('resource "a" "${x}" {\n}\n', "main.tf")
    assert err.value.pos == SourcePos("main.tf", 1)


@pytest.mark.parametrize(("source", "line", "message"), [
    ('resource "a" "b" {\n  name = "a"\n', 2, "unexpected end of file"),
    ('resource "a" "b" {\n  name = "a"\n}\n}\n', 4, 'unexpected "}"'),
    ('resource "a" "b" {\n  name "a"\n}\n', 2, 'expected "=" (for an argument) or "{" (for a block)'),
    ('variable "x" {\n  default = "abc\n}\n', 2, "syntax error"),
    ("n = = 2\n", 1, 'unexpected "="'),
    ("a = 1\nb = 1 @ 2\n", 2, 'unexpected "@"'),
    ("a = 1\n\nb = (1 + )\n", 3, 'unexpected ")"'),
    ('a = "x\ny"\n', 1, "unterminated string"),
])
def test_syntax_errors_name_the_line(source: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_hcl_text(source, "main.tf")
    assert err.value.pos == SourcePos("main.tf", line)
    assert err.value.message.startswith("syntax error") and message in err.value.message
    assert len(err.value.lines()) == 1 and "\n" not in err.value.lines()[0]


def test_parse_expression_gives_every_node_the_position() -> None:
    pos = SourcePos("--var list", 0)
    e = parse_expression('["a", {b = 1}]', pos)
    assert shape(e) == ("TupleExpr", (lit("a"), ("ObjectExpr", ((lit("b"), lit(1)),))))
    assert isinstance(e, s.TupleExpr) and e.pos == pos and e.items[1].pos == pos


@pytest.mark.parametrize("text", ["[1,", "1 2", "a = 1", "x\ny = 2"])
def test_parse_expression_rejects_non_expressions(text: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_expression(text, POS)
    assert err.value.pos == POS


def test_load_hcl_file(tmp_path: Path) -> None:
    p = tmp_path / "main.tf"
    p.write_text('variable "n" {\n  default = 3\n}\n')
    f = load_hcl_file(p, "main.tf")
    assert f.body.blocks[0].labels == ("n",) and f.path == "main.tf"
    p.write_bytes(b'a = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_hcl_file(p, "main.tf")
    with pytest.raises(ConfigError, match="cannot read"):
        load_hcl_file(tmp_path / "missing.tf", "missing.tf")


@pytest.mark.parametrize("source", ["", "# only a comment\n", "/* block */", "\n\n"])
def test_empty_files(source: str) -> None:
    body = load_hcl_text(source, "main.tf").body
    assert body.attributes == () and body.blocks == ()


def test_crlf_line_endings_and_byte_order_mark() -> None:
    body = load_hcl_text('\ufeffa = 1\r\nb = <<EOF\r\nx\r\nEOF\r\nc = "s"\r\n', "main.tf").body
    assert [(a.name, shape(a.expr), a.pos.line) for a in body.attributes] == [
        ("a", lit(1), 1), ("b", lit("x\n"), 2), ("c", lit("s"), 5)]
