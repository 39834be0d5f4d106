"""Load `*.tf.json` files (Terraform JSON syntax, as terranix writes them) into the shared syntax tree.

JSON cannot tell a nested block from an attribute holding an object, so the block structure (labels,
nested block names) comes from reconciler.config.blockspec, as Terraform takes it from provider schemas.
Strings are templates: most have no `${`/`%{` and become literals at once; a string that is exactly one
simple reference (`"${hcloud_server.m1.ipv4_address}"`) is built directly by a regular expression; the
rest are parsed with python-hcl2 (cached by text). Positions are lazy (json_pos), so a file of 20,000
resources loads in a fraction of a second and an error still names its line.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.config import syntax as s
from reconciler.config.blockspec import TOP_LEVEL, TOP_LEVEL_NAMES, BlockSpec, resource_spec
from reconciler.config.gcpause import gc_paused
from reconciler.config.hcl_loader import parse_expression, parse_quoted_template
from reconciler.config.json_pos import JsonDocument, JsonPos, root_pos
from reconciler.config.limits import nesting_error
from reconciler.config.template_text import UnterminatedTemplate, hcl_quoted
from reconciler.errors import ConfigError, SourcePos
from reconciler.suggest import did_you_mean

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_STEP = rf'\.{_NAME}|\.[0-9]+|\[[0-9]+\]|\["[^"\\$%]*"\]'
_SIMPLE_TEMPLATE = re.compile(rf"\$\{{({_NAME})((?:{_STEP})*)\}}")
_SIMPLE_REFERENCE = re.compile(rf"({_NAME})((?:{_STEP})*)")
_INTERPOLATION = re.compile(rf"\$\{{({_NAME})((?:{_STEP})*)\}}")
_STEPS = re.compile(rf'\.({_NAME})|\.([0-9]+)|\[([0-9]+)\]|\["([^"\\$%]*)"\]')
_NOT_ROOTS = frozenset({"true", "false", "null", "for", "in", "if", "else", "endif", "endfor"})
RESOURCE_SPEC = BlockSpec(labels=2)
_LITERAL_ATTRIBUTES = {"variable": frozenset({"default", "description"}), "output": frozenset({"description"})}
_SPECIAL_ATTRIBUTES = frozenset({"depends_on", "type", "default", "description"})


def _reference_chain(root: str, steps: str, pos: SourcePos) -> s.Expr:
    expr: s.Expr = s.ScopeRef(pos, root)
    for name, dot_index, index, key in _STEPS.findall(steps):
        if name:
            expr = s.GetAttr(pos, expr, name)
        elif dot_index or index:
            expr = s.Index(pos, expr, s.Literal(pos, int(dot_index or index)))
        else:
            expr = s.Index(pos, expr, s.Literal(pos, key))
    return expr


def _references_in_text(raw: str, pos: SourcePos) -> s.Expr | None:
    """`"host-${a.b}:22"`: text and simple references only, built without the parser; None otherwise."""
    parts: list[s.Expr] = []
    last = 0
    for m in _INTERPOLATION.finditer(raw):
        text = raw[last:m.start()]
        if m.group(1) in _NOT_ROOTS or text.endswith("$") or "${" in text or "%{" in text:
            return None  # a keyword, a $${ escape or other template syntax: leave it to the parser
        if text:
            parts.append(s.Literal(pos, text))
        parts.append(_reference_chain(m.group(1), m.group(2), pos))
        last = m.end()
    tail = raw[last:]
    if "${" in tail or "%{" in tail:
        return None
    if tail:
        parts.append(s.Literal(pos, tail))
    return s.Template(pos, tuple(parts))


def template(raw: str, pos: SourcePos) -> s.Expr:
    """The expression of a Terraform JSON string: a literal, a reference, or a parsed template."""
    if "${" not in raw and "%{" not in raw:
        return s.Literal(pos, raw)
    m = _SIMPLE_TEMPLATE.fullmatch(raw)
    if m is not None and m.group(1) not in _NOT_ROOTS:
        return _reference_chain(m.group(1), m.group(2), pos)
    simple = _references_in_text(raw, pos)
    if simple is not None:
        return simple
    try:
        quoted = hcl_quoted(raw)
    except UnterminatedTemplate as e:
        raise ConfigError(f"syntax error: {e}", pos) from None
    return parse_quoted_template(quoted, pos)


def reference(raw: str, pos: SourcePos) -> s.Expr:
    """A string that names a reference (`depends_on`, a variable's `type`): parsed as an expression."""
    if raw.startswith("${"):
        return template(raw, pos)
    m = _SIMPLE_REFERENCE.fullmatch(raw)
    if m is not None and m.group(1) not in _NOT_ROOTS:
        return _reference_chain(m.group(1), m.group(2), pos)
    return parse_expression(raw, pos)


def _number(value: int | float) -> int | float:
    if type(value) is float and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


class _Lowerer:
    """Walks the decoded JSON; `pos` arguments are the JsonPos of the value being lowered."""

    def __init__(self) -> None:
        self._resource_specs: dict[str, BlockSpec] = {}

    # --------------------------------------------------------------------------------------- expressions
    def expr(self, value: Any, pos: JsonPos) -> s.Expr:
        t = type(value)
        if t is str:
            if "${" not in value and "%{" not in value:
                return s.Literal(pos, value if value.isascii() else unicodedata.normalize("NFC", value))
            return template(value, pos)
        if t is dict:
            items = []
            for k, v in value.items():
                p = JsonPos(pos, k)
                key = template(k, p) if "{" in k else s.Literal(p, k)
                items.append((key, self.expr(v, p)))
            return s.ObjectExpr(pos, tuple(items))
        if t is list:
            return s.TupleExpr(pos, tuple([self.expr(v, JsonPos(pos, i)) for i, v in enumerate(value)]))
        if t is float:
            return s.Literal(pos, _number(value))
        return s.Literal(pos, value)

    def literal(self, value: Any, pos: JsonPos) -> s.Expr:
        """A value taken literally (a variable's default): no template interpretation."""
        if isinstance(value, dict):
            items = []
            for k, v in value.items():
                p = JsonPos(pos, k)
                items.append((s.Literal(p, k), self.literal(v, p)))
            return s.ObjectExpr(pos, tuple(items))
        if isinstance(value, list):
            return s.TupleExpr(pos, tuple([self.literal(v, JsonPos(pos, i)) for i, v in enumerate(value)]))
        return s.Literal(pos, _number(value) if isinstance(value, float) else value)

    def attribute_expr(self, kind: str, name: str, value: Any, pos: JsonPos) -> s.Expr:
        if name == "depends_on" and kind in ("resource", "output"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError('depends_on must be a list of strings naming resources, e.g. "hcloud_server.web"',
                                  pos)
            return s.TupleExpr(pos, tuple([reference(v, JsonPos(pos, i)) for i, v in enumerate(value)]))
        if kind == "variable" and name == "type":
            if not isinstance(value, str):
                raise ConfigError('a variable\'s "type" must be a string holding a type, e.g. "list(string)"', pos)
            return reference(value, pos)
        if name in _LITERAL_ATTRIBUTES.get(kind, ()):
            return self.literal(value, pos)
        return self.expr(value, pos)

    # ----------------------------------------------------------------------------------------- structure
    def blocks(self, kind: str, type_: str, spec: BlockSpec, value: Any, pos: JsonPos,
               labels: tuple[str, ...] = ()) -> list[s.Block]:
        if isinstance(value, list):
            out: list[s.Block] = []
            for i, item in enumerate(value):
                out.extend(self.blocks(kind, type_, spec, item, JsonPos(pos, i), labels))
            return out
        if not isinstance(value, dict):
            raise ConfigError(f'"{type_}" must be a JSON object (or an array of objects) describing a block', pos)
        if len(labels) < spec.labels:
            out = []
            for label, sub in value.items():
                if label != "//":
                    out.extend(self.blocks(kind, type_, spec, sub, JsonPos(pos, label), (*labels, label)))
            return out
        body_spec = spec
        if spec is RESOURCE_SPEC:
            body_spec = self._resource_specs.get(labels[0]) or self._resource_specs.setdefault(
                labels[0], resource_spec(labels[0]))
        return [s.Block(type_, labels, self.body(kind, body_spec, value, pos), pos)]

    def body(self, kind: str, spec: BlockSpec, obj: dict[str, Any], pos: JsonPos) -> s.Body:
        attributes: list[s.Attribute] = []
        blocks: list[s.Block] = []
        nested = spec.blocks
        for key, value in obj.items():
            if key == "//":
                continue
            p = JsonPos(pos, key)
            block_spec = nested.get(key)
            if key == "dynamic" and kind == "resource" and isinstance(value, dict):
                blocks.extend(self.dynamic(nested, value, p))
            elif block_spec is not None:
                if value is not None:
                    blocks.extend(self.blocks(kind, key, block_spec, value, p))
            elif key in _SPECIAL_ATTRIBUTES:
                attributes.append(s.Attribute(key, self.attribute_expr(kind, key, value, p), p))
            else:
                attributes.append(s.Attribute(key, self.expr(value, p), p))
        return s.Body(tuple(attributes), tuple(blocks), pos)

    def dynamic(self, nested: Mapping[str, BlockSpec], value: dict[str, Any], pos: JsonPos) -> list[s.Block]:
        """`"dynamic": {"BLOCK": {"for_each": ..., "iterator": "NAME", "content": {...}}}`, as terranix writes it."""
        out: list[s.Block] = []
        for label, body in value.items():
            p = JsonPos(pos, label)
            items = body if isinstance(body, list) else [body]
            for i, item in enumerate(items):
                ip = JsonPos(p, i) if isinstance(body, list) else p
                if not isinstance(item, dict):
                    raise ConfigError(f'dynamic "{label}" must be a JSON object with for_each and content', ip)
                attributes = [s.Attribute(k, reference(v, JsonPos(ip, k)) if k == "iterator" and isinstance(v, str)
                                          else self.expr(v, JsonPos(ip, k)), JsonPos(ip, k))
                              for k, v in item.items() if k not in ("content", "//")]
                content = item.get("content", {})
                cp = JsonPos(ip, "content")
                if not isinstance(content, dict):
                    raise ConfigError(f'dynamic "{label}": content must be a JSON object', cp)
                inner = s.Block("content", (), self.body("resource", nested.get(label, BlockSpec()), content, cp), cp)
                blocks = (inner,) if "content" in item else ()
                out.append(s.Block("dynamic", (label,), s.Body(tuple(attributes), blocks, ip), ip))
        return out

    def file(self, data: Any, root: JsonPos) -> s.Body:
        if not isinstance(data, dict):
            raise ConfigError("a .tf.json file must hold one JSON object, whose keys are block types "
                              '(e.g. "resource", "variable")', root)
        blocks: list[s.Block] = []
        for key, value in data.items():
            if key == "//":
                continue
            if key == "resource":
                blocks.extend(self.blocks(key, key, RESOURCE_SPEC, value, JsonPos(root, key)))
            elif key in TOP_LEVEL:
                blocks.extend(self.blocks(key, key, TOP_LEVEL[key], value, JsonPos(root, key)))
            else:
                raise ConfigError(f'unknown block type "{key}"', JsonPos(root, key),
                                  hint=did_you_mean(key, sorted(TOP_LEVEL_NAMES)) or
                                  "supported: " + ", ".join(sorted(TOP_LEVEL_NAMES)))
        return s.Body((), tuple(blocks), root)


def load_json_text(text: str, display: str) -> s.SourceFile:
    """Parse the text of a `.tf.json` file shown to users as `display`."""
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    try:
        with gc_paused():
            data = json.loads(text)
            body = _Lowerer().file(data, root_pos(JsonDocument(display, text)))
    except json.JSONDecodeError as e:
        raise ConfigError(f"invalid JSON: {e.msg}", SourcePos(display, e.lineno)) from None
    except RecursionError:  # the C decoder and the lowering stop at Python's recursion limit; say where
        raise nesting_error(text, display) or ConfigError(
            "an expression nests too deeply to follow", SourcePos(display, 1), hint="split it into locals") from None
    return s.SourceFile(display, body, text)


def load_json_file(path: Path, display: str) -> s.SourceFile:
    """Read and parse a `.tf.json` file; `display` is the name put in positions (e.g. "config.tf.json")."""
    from reconciler.config.loader import read_source

    return load_json_text(read_source(path, display), display)
