"""Lower python-hcl2's raw Lark parse tree into the shared syntax tree (reconciler.config.syntax).

The grammar (hcl2.lark) already encodes operator precedence and keeps every token, so lowering is a walk
that drops punctuation and newline/comment nodes and builds frozen nodes with their source line. Template
directives arrive flat (`%{if}`, `%{else}`, `%{endif}` as separate parts) and are assembled here; a
heredoc arrives as one token, whose body is re-parsed as a quoted template.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from lark import Token, Tree

from reconciler.config import syntax as s
from reconciler.config.limits import MAX_NUMBER_DIGITS
from reconciler.config.template_text import UnterminatedTemplate, hcl_quoted
from reconciler.errors import ConfigError, SourcePos

OPERATORS = {
    "DOUBLE_PIPE": "||", "DOUBLE_AMP": "&&", "DOUBLE_EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">",
    "LEQ": "<=", "GEQ": ">=", "PLUS": "+", "MINUS": "-", "ASTERISK": "*", "SLASH": "/", "PERCENT": "%",
}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_HEREDOC_HEAD = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n")

# Parses `x = "<template>"` and returns the lark tree of the quoted string (set by hcl_loader).
TemplateParser = Callable[[str, SourcePos], Tree]


def number(text: str) -> int | float:
    """An HCL numeric literal as a Python number; integral floats become int."""
    if re.fullmatch(r"-?\d+", text) and len(text) <= MAX_NUMBER_DIGITS:  # longer: a float (inf)
        return int(text)
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def _trees(tree: Tree) -> list[Tree]:
    """The child trees that carry meaning (no tokens, no newlines/comments)."""
    return [c for c in tree.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _has_token(tree: Tree, type_: str) -> bool:
    return any(isinstance(c, Token) and c.type == type_ for c in tree.children)


def _name(tree: Tree) -> str:
    """The text of an identifier / keyword / literal_value tree."""
    tok = tree.children[0]
    return str(tok)


class Lowerer:
    """Lowers the trees of one file. With `fixed` set, every node gets that position (a JSON string).

    With `raw_text` set the template's literal text was written raw (a heredoc, a Terraform JSON string, a
    template file), so, as in HCL's scanner, its literals are lines: a strip marker trims only the line
    next to it, never the indentation of the line after.
    """

    def __init__(self, file: str, parse_template: TemplateParser, fixed: SourcePos | None = None,
                 raw_text: bool = False) -> None:
        self.file = file
        self.raw_text = raw_text
        self.fixed = fixed
        self.parse_template = parse_template
        self._positions: dict[int, SourcePos] = {}

    def pos(self, node: Tree | Token) -> SourcePos:
        if self.fixed is not None:
            return self.fixed
        line = node.line if isinstance(node, Token) else getattr(node.meta, "line", None)
        line = line or 1
        p = self._positions.get(line)
        if p is None:
            p = self._positions[line] = SourcePos(self.file, line)
        return p

    def error(self, message: str, node: Tree | Token) -> ConfigError:
        return ConfigError(message, self.pos(node))

    # ------------------------------------------------------------------------------------------ structure
    def body(self, tree: Tree, pos: SourcePos) -> s.Body:
        attributes: list[s.Attribute] = []
        blocks: list[s.Block] = []
        seen: dict[str, SourcePos] = {}
        for child in _trees(tree):
            if child.data == "attribute":
                attr = self.attribute(child)
                first = seen.get(attr.name)
                if first is not None:
                    raise ConfigError(f'attribute "{attr.name}" is set twice; first set at {first}', attr.pos)
                seen[attr.name] = attr.pos
                attributes.append(attr)
            elif child.data == "block":
                blocks.append(self.block(child))
        return s.Body(tuple(attributes), tuple(blocks), pos)

    def attribute(self, tree: Tree) -> s.Attribute:
        parts = _trees(tree)
        return s.Attribute(_name(parts[0]), self.expr(parts[1]), self.pos(tree))

    def block(self, tree: Tree) -> s.Block:
        parts = _trees(tree)
        type_tree, rest, body_tree = parts[0], parts[1:-1], parts[-1]
        labels: list[str] = []
        for label in rest:
            if label.data == "string":
                value = self.expr(label)
                if not (isinstance(value, s.Literal) and isinstance(value.value, str)):
                    raise self.error("a block label must be a literal string, without ${...}", label)
                labels.append(value.value)
            else:
                labels.append(_name(label))
        pos = self.pos(tree)
        return s.Block(_name(type_tree), tuple(labels), self.body(body_tree, pos), pos)

    # ----------------------------------------------------------------------------------------- expressions
    def expr(self, tree: Tree) -> s.Expr:
        method = getattr(self, "_" + tree.data, None)
        if method is None:
            raise self.error(f"unsupported syntax: {tree.data}", tree)
        result: s.Expr = method(tree)
        return result

    def _expr_term(self, tree: Tree) -> s.Expr:
        return self.expr(_trees(tree)[0])

    def _conditional(self, tree: Tree) -> s.Expr:
        cond, then, otherwise = _trees(tree)
        return s.Conditional(self.pos(tree), self.expr(cond), self.expr(then), self.expr(otherwise))

    def _binary_op(self, tree: Tree) -> s.Expr:
        left, term = _trees(tree)
        operator, right = _trees(term)
        tok = operator.children[0]
        assert isinstance(tok, Token)
        return s.BinaryOp(self.pos(tree), OPERATORS[tok.type], self.expr(left), self.expr(right))

    def _unary_op(self, tree: Tree) -> s.Expr:
        tok = tree.children[0]
        operand = self.expr(_trees(tree)[0])
        op = str(tok)
        if op == "-" and isinstance(operand, s.Literal) and type(operand.value) in (int, float):
            return s.Literal(self.pos(tree), -operand.value)
        return s.UnaryOp(self.pos(tree), op, operand)

    def _int_lit(self, tree: Tree) -> s.Expr:
        return s.Literal(self.pos(tree), number(str(tree.children[0])))

    _float_lit = _int_lit

    def _literal_value(self, tree: Tree) -> s.Expr:
        return s.Literal(self.pos(tree), {"true": True, "false": False, "null": None}[_name(tree)])

    def _identifier(self, tree: Tree) -> s.Expr:
        return s.ScopeRef(self.pos(tree), _name(tree))

    def _tuple(self, tree: Tree) -> s.Expr:
        return s.TupleExpr(self.pos(tree), tuple(self.expr(t) for t in _trees(tree)))

    def _object(self, tree: Tree) -> s.Expr:
        items: list[tuple[s.Expr, s.Expr]] = []
        for elem in _trees(tree):
            key_tree, value_tree = _trees(elem)
            items.append((self.object_key(key_tree), self.expr(value_tree)))
        return s.ObjectExpr(self.pos(tree), tuple(items))

    def object_key(self, tree: Tree) -> s.Expr:
        inner = _trees(tree)[0]
        if inner.data == "keyword":
            return s.Literal(self.pos(inner), _name(inner))
        if inner.data == "expr_term" and not _has_token(inner, "LPAR"):
            bare = _trees(inner)[0]
            if bare.data in ("identifier", "literal_value"):
                return s.Literal(self.pos(bare), _name(bare))
        return self.expr(inner)

    def _function_call(self, tree: Tree) -> s.Expr:
        names = [_name(t) for t in tree.children if isinstance(t, Tree) and t.data == "identifier"]
        args_tree = next((t for t in tree.children if isinstance(t, Tree) and t.data == "arguments"), None)
        args: tuple[s.Expr, ...] = ()
        expand = False
        if args_tree is not None:
            args = tuple(self.expr(t) for t in _trees(args_tree))
            expand = _has_token(args_tree, "ELLIPSIS")
        return s.Call(self.pos(tree), "::".join(names), args, expand)

    # ------------------------------------------------------------------------------------ traversals
    def _traverse(self, obj: s.Expr, step: Tree) -> s.Expr:
        pos = self.pos(step)
        if step.data == "get_attr":
            name = _name(_trees(step)[0])
            return s.GetAttr(pos, obj, name)
        if step.data == "short_index":
            tok = step.children[-1]
            return s.Index(pos, obj, s.Literal(pos, int(str(tok))))
        if step.data == "braces_index":
            return s.Index(pos, obj, self.expr(_trees(step)[0]))
        raise self.error(f"unsupported traversal: {step.data}", step)

    def _get_attr_expr_term(self, tree: Tree) -> s.Expr:
        obj, step = _trees(tree)
        return self._traverse(self.expr(obj), step)

    _index_expr_term = _get_attr_expr_term

    def _splat(self, tree: Tree) -> s.Expr:
        obj, splat = _trees(tree)
        each: s.Expr = s.ScopeRef(self.pos(splat), "__splat__")
        for step in _trees(splat):
            each = self._traverse(each, step)
        return s.Splat(self.pos(tree), self.expr(obj), each)

    _attr_splat_expr_term = _splat
    _full_splat_expr_term = _splat

    # ----------------------------------------------------------------------------------- for expressions
    def _for_intro(self, tree: Tree) -> tuple[str | None, str, s.Expr]:
        names = [_name(t) for t in _trees(tree) if t.data == "identifier"]
        coll = next(t for t in _trees(tree) if t.data != "identifier")
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return key_var, value_var, self.expr(coll)

    def _for_parts(self, tree: Tree) -> tuple[Tree, list[Tree], s.Expr | None]:
        parts = _trees(tree)
        cond = None
        if parts[-1].data == "for_cond":
            cond = self.expr(_trees(parts[-1])[0])
            parts = parts[:-1]
        return parts[0], parts[1:], cond

    def _for_tuple_expr(self, tree: Tree) -> s.Expr:
        intro, (value,), cond = self._for_parts(tree)
        key_var, value_var, coll = self._for_intro(intro)
        return s.ForExpr(self.pos(tree), key_var, value_var, coll, None, self.expr(value), cond)

    def _for_object_expr(self, tree: Tree) -> s.Expr:
        intro, (key, value), cond = self._for_parts(tree)
        key_var, value_var, coll = self._for_intro(intro)
        return s.ForExpr(self.pos(tree), key_var, value_var, coll, self.expr(key), self.expr(value), cond,
                         grouping=_has_token(tree, "ELLIPSIS"))

    # ------------------------------------------------------------------------------------------ templates
    def _string(self, tree: Tree, flush: bool = False) -> s.Expr:
        items: list[Any] = []
        for part in _trees(tree):
            items.append(self._string_part(part))
        if self.raw_text:
            items = _lines(items)
        _strip(items)
        if flush:
            _flush(items)
        return self._assemble(items, tree)

    def _template_string(self, tree: Tree) -> s.Expr:
        raw = str(tree.children[0])
        return s.Literal(self.pos(tree), self._unescape(raw[2:-2], tree))

    def _unescape(self, text: str, node: Tree | Token) -> str:
        if "\\" not in text:
            return text if text.isascii() else unicodedata.normalize("NFC", text)

        def repl(m: re.Match[str]) -> str:
            code = m.group(1)
            if code in _SIMPLE_ESCAPES:
                return _SIMPLE_ESCAPES[code]
            if code[0] in "uU" and len(code) > 1:
                return chr(int(code[1:], 16))
            raise self.error(f'invalid escape sequence "\\{code}" in string', node)

        out = _ESCAPE.sub(repl, text)
        return out if out.isascii() else unicodedata.normalize("NFC", out)  # as Terraform's strings are

    def _string_part(self, part: Tree) -> Any:
        child = part.children[0]
        if isinstance(child, Token):
            if child.type == "STRING_CHARS":
                if "\n" in child:
                    raise ConfigError("syntax error: unterminated string (a quoted string cannot span lines)",
                                      self.pos(part))
                return ["lit", self._unescape(str(child), part)]
            return ["lit", str(child)[1:]]  # $${...} or %%{...}
        assert isinstance(child, Tree)
        kind = child.data
        sub = _trees(child)
        toks = [c for c in child.children if isinstance(c, Token)]
        strip_left = len(toks) > 1 and toks[1].type == "STRIP_MARKER"
        strip_right = len(toks) > 1 and toks[-2].type == "STRIP_MARKER"
        if kind == "interpolation":
            return ["expr", self.expr(sub[0])]
        if kind == "template_if_start":
            return ["if", strip_left, strip_right, self.expr(sub[0]), child]
        if kind == "template_for_start":
            key_var, value_var, coll = self._for_intro(child)
            return ["for", strip_left, strip_right, (key_var, value_var, coll), child]
        return [kind.removeprefix("template_"), strip_left, strip_right, None, child]

    def _assemble(self, items: list[Any], tree: Tree) -> s.Expr:
        pos = self.pos(tree)
        stack: list[tuple[list[Any], list[s.Expr]]] = [([], [])]  # (opening directive item, parts so far)
        for item in items:
            kind = item[0]
            parts = stack[-1][1]
            if kind == "lit":
                if parts and isinstance(parts[-1], s.Literal) and isinstance(parts[-1].value, str):
                    parts[-1] = s.Literal(parts[-1].pos, parts[-1].value + item[1])
                elif item[1]:
                    parts.append(s.Literal(pos, item[1]))
            elif kind == "expr":
                parts.append(item[1])
            elif kind in ("if", "for"):
                stack.append((item, []))
            elif kind == "else":
                opening = stack[-1][0]
                if not opening or opening[0] != "if" or len(opening) > 5:
                    raise self.error("syntax error: %{else} without a matching %{if}", item[4])
                opening.append(tuple(parts))  # then-part; continue collecting the else-part
                stack[-1][1].clear()
            elif kind in ("endif", "endfor"):
                opening, body = stack[-1]
                want = "if" if kind == "endif" else "for"
                if not opening or opening[0] != want:
                    raise self.error(f"syntax error: %{{{kind}}} without a matching %{{{want}}}", item[4])
                stack.pop()
                dpos = self.pos(opening[4])
                if want == "if":
                    then, otherwise = (opening[5], tuple(body)) if len(opening) > 5 else (tuple(body), ())
                    stack[-1][1].append(s.TemplateIf(dpos, opening[3], then, otherwise))
                else:
                    key_var, value_var, coll = opening[3]
                    stack[-1][1].append(s.TemplateFor(dpos, key_var, value_var, coll, tuple(body)))
        if len(stack) > 1:
            raise self.error(f"syntax error: %{{{stack[-1][0][0]}}} is not closed", stack[-1][0][4])
        parts = stack[0][1]
        if not parts:
            return s.Literal(pos, "")
        if len(parts) == 1 and isinstance(parts[0], s.Literal):
            return parts[0]
        if len(parts) == 1 and not isinstance(parts[0], (s.TemplateIf, s.TemplateFor)):
            return parts[0]
        return s.Template(pos, tuple(parts))

    def _heredoc(self, tree: Tree) -> s.Expr:
        tok = tree.children[0]
        raw = str(tok).replace("\r\n", "\n")
        head = _HEREDOC_HEAD.match(raw)
        assert head is not None
        body = raw[head.end():]
        lines = body.split("\n")[:-2]  # drop the closing-marker line and the empty tail after it
        text = "".join(x + "\n" for x in lines)
        pos = self.pos(tree)
        flush = bool(head.group(1))  # <<-: remove the smallest indentation, as HCL does after stripping
        if "${" not in text and "%{" not in text:
            items = _lines([["lit", text]])
            if flush:
                _flush(items)
            return s.Literal(pos, "".join(item[1] for item in items))
        try:
            quoted = hcl_quoted(text)
        except UnterminatedTemplate as e:
            raise ConfigError(f"syntax error: {e}", pos) from None
        string_tree = self.parse_template(quoted, pos)
        inner = Lowerer(self.file, self.parse_template, fixed=self.fixed or pos, raw_text=True)
        strings = [c for c in _trees(string_tree) if c.data == "string"] if string_tree.data == "expr_term" else []
        if len(strings) == 1:
            return inner._string(strings[0], flush=flush)
        return inner.expr(string_tree)

    _heredoc_template = _heredoc
    _heredoc_template_trim = _heredoc


def _lines(items: list[Any]) -> list[Any]:
    """Template items with each run of literal text cut into lines (each but the last ends with a newline)."""
    out: list[Any] = []
    pending: list[str] = []

    def flush_text() -> None:
        text = "".join(pending)
        pending.clear()
        out.extend(["lit", line] for line in text.splitlines(keepends=True))

    for item in items:
        if item[0] == "lit":
            pending.append(item[1])
        else:
            flush_text()
            out.append(item)
    flush_text()
    return out


def _strip(items: list[Any]) -> None:
    """Strip markers: `~` on a directive's left trims the literal just before it, on its right the one after."""
    for i, item in enumerate(items):
        if item[0] in ("lit", "expr"):
            continue
        if item[1] and i > 0 and items[i - 1][0] == "lit":
            items[i - 1][1] = items[i - 1][1].rstrip()
        if item[2] and i + 1 < len(items) and items[i + 1][0] == "lit":
            items[i + 1][1] = items[i + 1][1].lstrip()


def _flush(items: list[Any]) -> None:
    """A `<<-` heredoc: remove the smallest indentation of the lines that start with literal text.

    As HCL does it, after strip markers: only a literal right after a newline starts a line; a blank
    line does not count; a line that starts with an interpolation or directive means nothing is removed.
    """
    smallest: int | None = None
    starts: list[Any] = []
    newline = True
    for item in items:
        if newline:
            newline = False
            if item[0] != "lit":
                return
            text = item[1]
            trimmed = text.lstrip()
            if not (trimmed == "" and text.endswith("\n")):
                spaces = len(text) - len(trimmed)
                smallest = spaces if smallest is None else min(smallest, spaces)
                starts.append(item)
        if item[0] == "lit" and item[1].endswith("\n"):
            newline = True
    for item in starts:
        item[1] = item[1][smallest:]
