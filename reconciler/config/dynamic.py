"""Nested blocks as values, `dynamic` blocks included: each block type of a body becomes one expression
giving the list of its blocks as objects (the shape Terraform's state gives nested blocks).

`dynamic "NAME" { for_each = COLL  iterator = IT  content { ... } }` becomes
`[for IT in [for k, v in COLL : {key = k, value = v}] : {content}]`, so `IT.key` and `IT.value` (IT
defaults to NAME) read as in Terraform; static and dynamic blocks of one type join in source order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.config import syntax as s
from reconciler.errors import ConfigError

_KEY, _VALUE = "\x00dynamic-key", "\x00dynamic-value"  # names no configuration can spell


def nested_blocks(blocks: Iterable[s.Block], to_object: Callable[[s.Block], s.Expr],
                  errors: list[ConfigError]) -> dict[str, tuple[s.Expr, s.Block]]:
    """Block type -> (the list-of-objects expression, the first block of that type, for its position)."""
    parts: dict[str, list[s.Expr]] = {}
    statics: dict[str, list[s.Expr]] = {}
    first: dict[str, s.Block] = {}
    for block in blocks:
        if block.type == "dynamic":
            made = _dynamic(block, to_object, errors)
            if made is None:
                continue
            name, expr = made
            if statics.get(name):
                parts.setdefault(name, []).append(s.TupleExpr(statics[name][0].pos, tuple(statics[name])))
                statics[name] = []
            parts.setdefault(name, []).append(expr)
            first.setdefault(name, block)
        else:
            statics.setdefault(block.type, []).append(to_object(block))
            first.setdefault(block.type, block)
    out: dict[str, tuple[s.Expr, s.Block]] = {}
    for name, block in first.items():
        pieces = parts.get(name, [])
        if statics.get(name):
            pieces.append(s.TupleExpr(statics[name][0].pos, tuple(statics[name])))
        expr = pieces[0] if len(pieces) == 1 else s.Call(block.pos, "concat", tuple(pieces))
        out[name] = (expr, block)
    return out


def _dynamic(block: s.Block, to_object: Callable[[s.Block], s.Expr],
             errors: list[ConfigError]) -> tuple[str, s.Expr] | None:
    if len(block.labels) != 1:
        errors.append(ConfigError('a dynamic block needs one label: dynamic "BLOCK_TYPE"', block.pos))
        return None
    name = block.labels[0]
    body = block.body
    for attr in body.attributes:
        if attr.name not in ("for_each", "iterator"):
            errors.append(ConfigError(f'dynamic "{name}": "{attr.name}" is not supported here (only for_each, '
                                      "iterator and a content block)", attr.pos))
    for_each = body.attribute("for_each")
    contents = [b for b in body.blocks if b.type == "content"]
    if for_each is None or len(contents) != 1 or len(body.blocks) != 1:
        errors.append(ConfigError(f'dynamic "{name}" needs for_each and exactly one content block', block.pos))
        return None
    iterator = name
    it = body.attribute("iterator")
    if it is not None:
        if not isinstance(it.expr, s.ScopeRef):
            errors.append(ConfigError(f'dynamic "{name}": iterator must be a bare name', it.pos))
            return None
        iterator = it.expr.name
    pos = block.pos
    pairs = s.ForExpr(pos, _KEY, _VALUE, for_each.expr, None,
                      s.ObjectExpr(pos, ((s.Literal(pos, "key"), s.ScopeRef(pos, _KEY)),
                                         (s.Literal(pos, "value"), s.ScopeRef(pos, _VALUE)))), None)
    return name, s.ForExpr(pos, None, iterator, pairs, None, to_object(contents[0]), None)
