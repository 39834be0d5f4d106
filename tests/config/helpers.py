"""Shared helpers for the config tests: a small real Scope, expression evaluation from text, tree comparison."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from reconciler.config import syntax as s
from reconciler.config.evaluator import evaluate
from reconciler.config.hcl_loader import parse_expression
from reconciler.errors import ConfigError, SourcePos

POS = SourcePos("test.tf", 7)


class DictScope:
    """A Scope over a dict of root names, as the planner's scope behaves for var/local/resources."""

    def __init__(self, base_dir: Path | None = None, **roots: Any) -> None:
        self.base_dir = base_dir or Path(".")
        self.roots = roots

    def lookup(self, name: str, pos: SourcePos) -> Any:
        if name in self.roots:
            return self.roots[name]
        raise ConfigError(f'unknown name "{name}"', pos)


def ev(text: str, scope: DictScope | None = None, **roots: Any) -> Any:
    """Parse `text` as an expression and evaluate it."""
    return evaluate(parse_expression(text, POS), scope or DictScope(**roots))


def shape(node: Any) -> Any:
    """A syntax tree with every position removed, for comparing trees from different sources."""
    if isinstance(node, tuple):
        return tuple(shape(n) for n in node)
    if isinstance(node, SourcePos):
        return None
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = [f.name for f in dataclasses.fields(node) if f.name not in ("pos", "text", "path")]
        return (type(node).__name__, *(shape(getattr(node, f)) for f in fields))
    return node


def blocks_by_address(files: list[s.SourceFile]) -> dict[tuple[str, tuple[str, ...]], Any]:
    return {(b.type, b.labels): shape(b) for f in files for b in f.body.blocks}
