"""The syntax tree shared by the HCL and the JSON loaders: bodies, blocks, attributes and expressions.

Both `*.tf` (HCL native syntax, parsed by python-hcl2) and `*.tf.json` (Terraform JSON syntax) lower to
these frozen dataclasses, so everything after loading is blind to which syntax a file used. Every node
carries the SourcePos of where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import SourcePos


# ---------------------------------------------------------------------------------------------- expressions
@dataclass(frozen=True, slots=True)
class Expr:
    """An expression of the configuration language, where it starts in its file."""
    pos: SourcePos


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """null, bool, number or string literal (a template with no interpolation lowers to a Literal)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Template(Expr):
    """A string template: parts are Literal strings and interpolated expressions, joined as strings.

    A template that is exactly one interpolation ("${x}") lowers to the bare expression instead, so that
    its value keeps its type, as in Terraform.
    """

    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class TemplateIf(Expr):
    """%{ if cond }...%{ else }...%{ endif } inside a template."""

    cond: Expr
    then: tuple[Expr, ...]
    otherwise: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class TemplateFor(Expr):
    """%{ for k, v in coll }...%{ endfor } inside a template."""

    key_var: str | None
    value_var: str
    collection: Expr
    body: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ScopeRef(Expr):
    """A bare root name: `var`, `local`, `count`, `each`, `path`, a resource type, or a for-variable."""

    name: str


@dataclass(frozen=True, slots=True)
class GetAttr(Expr):
    """`obj.name` (also `obj.0`, which Terraform treats as an index; lowered to Index)."""

    obj: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """`obj[key]`."""

    obj: Expr
    key: Expr


@dataclass(frozen=True, slots=True)
class Splat(Expr):
    """`obj[*].a.b` or `obj.*.a`: apply `each` (an expression over ScopeRef('__splat__')) to every element."""

    obj: Expr
    each: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A function call: `name(args...)`, the last argument expanded with `...`."""
    name: str
    args: tuple[Expr, ...]
    expand_last: bool = False  # f(a, b...)


@dataclass(frozen=True, slots=True)
class Conditional(Expr):
    """`cond ? then : otherwise`."""
    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class BinaryOp(Expr):
    """An operator between two operands."""
    op: str  # one of: || && == != < > <= >= + - * / %
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    """Negation (`-`) or logical not (`!`)."""
    op: str  # "-" or "!"
    operand: Expr


@dataclass(frozen=True, slots=True)
class TupleExpr(Expr):
    """A tuple constructor: `[a, b, ...]`."""
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectExpr(Expr):
    """`{ k = v, ... }`; a bare identifier key lowers to a Literal string key."""

    items: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class ForExpr(Expr):
    """`[for k, v in coll : value if cond]` (key_expr None) or `{for k, v in coll : key => value...}`."""

    key_var: str | None
    value_var: str
    collection: Expr
    key_expr: Expr | None
    value_expr: Expr
    cond: Expr | None
    grouping: bool = False


# ---------------------------------------------------------------------------------------------- structure
@dataclass(frozen=True, slots=True)
class Attribute:
    """`name = expr` in a body."""
    name: str
    expr: Expr
    pos: SourcePos


@dataclass(frozen=True, slots=True)
class Body:
    """What a file or a block holds: its attributes and nested blocks, in source order."""
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
    pos: SourcePos

    def attribute(self, name: str) -> Attribute | None:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        return None

    def blocks_of(self, type_: str) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.type == type_)


@dataclass(frozen=True, slots=True)
class Block:
    """`type "label"... { body }`."""
    type: str
    labels: tuple[str, ...]
    body: Body
    pos: SourcePos


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One parsed configuration file; its text is kept for error excerpts."""
    path: str
    body: Body
    text: str = field(default="", repr=False, compare=False)


# ---------------------------------------------------------------------------------------------- references
@dataclass(frozen=True, slots=True)
class Reference:
    """A static reference found in an expression: `root` then attribute names / literal keys.

    `hcloud_server.web["a"].ipv4_address` -> Reference("hcloud_server", ("web", "a", "ipv4_address"), pos).
    Steps stop at the first dynamic index (its own references are reported separately).
    """

    root: str
    steps: tuple[str | int, ...]
    pos: SourcePos
