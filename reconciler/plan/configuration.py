"""The configuration as Terraform's plan JSON describes it (`configuration`): provider configs and, per
resource, every argument as an expression object, `{"constant_value": v}` when it references nothing and
`{"references": [...]}` listing each reference and its shorter prefixes (`hcloud_server.web["a"].id`,
`hcloud_server.web["a"]`, `hcloud_server.web`), as Terraform's `jsonconfig` writes them. Nested blocks are
lists of expression maps. Built once per plan from the declarations, so a saved plan carries it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from reconciler.config import syntax as s
from reconciler.config.blockspec import RESOURCE_TYPES
from reconciler.config.decls import Declarations, ResourceDecl, VariableDecl
from reconciler.errors import ReconcilerError

# provider_name as Terraform writes it; nixos_machine has no registry entry, so it takes the hostname that
# Terraform reserves for providers that are not published (`terraform.local`)
PROVIDER_FULL_NAMES = {
    "hcloud": "registry.terraform.io/hetznercloud/hcloud",
    "google": "registry.terraform.io/hashicorp/google",
    "nixos": "terraform.local/reconciler/nixos",
}
SECRET_PROVIDER_ARGS = frozenset({"token", "credentials"})  # never written out, not even as a constant


def provider_full_name(provider: str) -> str:
    return PROVIDER_FULL_NAMES.get(provider, f"terraform.local/reconciler/{provider}")


def _chain(expr: s.Expr) -> tuple[str, list[str]] | None:
    """`(root, [".name", "[0]", ...])` for a static traversal from a root name; None otherwise.
    A dynamic index cuts the chain there, as in Terraform."""
    steps: list[str] = []
    node = expr
    while True:
        if isinstance(node, s.GetAttr):
            steps.append("." + node.name)
            node = node.obj
        elif isinstance(node, s.Index):
            key = node.key
            if isinstance(key, s.Literal) and isinstance(key.value, (str, int)) and not isinstance(key.value, bool):
                steps.append(f"[{json.dumps(key.value)}]")
            else:
                steps.clear()
            node = node.obj
        else:
            break
    if not isinstance(node, s.ScopeRef):
        return None
    steps.reverse()
    return node.name, steps


def _subject_length(root: str, steps: list[str]) -> int:
    """How many steps belong to the referenced object itself (Terraform's reference subject)."""
    if root in RESOURCE_TYPES:
        return 2 if len(steps) > 1 and steps[1].startswith("[") else 1
    return 1 if steps else 0


def reference_strings(root: str, steps: list[str]) -> list[str]:
    n = _subject_length(root, steps)
    out = [root + "".join(steps[:i]) for i in range(len(steps), n, -1)]
    out.append(root + "".join(steps[:n]))
    if root in RESOURCE_TYPES and n == 2:
        out.append(root + steps[0])
    return out


_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(expr: Any) -> Iterator[s.Expr]:
    names = _FIELDS.get(type(expr))
    if names is None:
        names = _FIELDS[type(expr)] = tuple(f.name for f in fields(expr) if f.name != "pos")
    for name in names:
        value = getattr(expr, name)
        if isinstance(value, s.Expr):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, s.Expr):
                    yield item
                elif isinstance(item, tuple):
                    yield from (x for x in item if isinstance(x, s.Expr))


def references(expr: s.Expr, bound: frozenset[str] = frozenset()) -> list[str]:
    """Terraform's `references` of one expression, in source order, without repeats."""
    out: list[str] = []
    _collect(expr, bound, out)
    return list(dict.fromkeys(out))


def _collect(expr: s.Expr, bound: frozenset[str], out: list[str]) -> None:
    if isinstance(expr, (s.ScopeRef, s.GetAttr, s.Index)):
        chain = _chain(expr)
        if chain is not None:
            root, steps = chain
            if root not in bound and root != "__splat__":
                out.extend(reference_strings(root, steps))
            node: s.Expr = expr
            while isinstance(node, (s.GetAttr, s.Index)):  # a dynamic index's own references
                if isinstance(node, s.Index) and not isinstance(node.key, s.Literal):
                    _collect(node.key, bound, out)
                node = node.obj
            return
    if isinstance(expr, (s.ForExpr, s.TemplateFor)):
        _collect(expr.collection, bound, out)
        inner = bound | {expr.value_var, *([expr.key_var] if expr.key_var else [])}
        for child in _children(expr):
            if child is not expr.collection:
                _collect(child, inner, out)
        return
    if is_dataclass(expr):
        for child in _children(expr):
            _collect(child, bound, out)


def _constant(expr: s.Expr) -> tuple[bool, Any]:
    from reconciler.config.evaluator import evaluate
    from reconciler.config.scope import ConfigScope

    if isinstance(expr, s.Literal):
        return True, expr.value
    try:
        return True, evaluate(expr, ConfigScope(Path("."), {}, {}, {}))  # no references: no names needed
    except (ReconcilerError, TypeError, ValueError):
        return False, None


def _is_block_list(expr: s.Expr) -> bool:
    return isinstance(expr, s.TupleExpr) and bool(expr.items) and all(
        isinstance(i, s.ObjectExpr) and all(isinstance(k, s.Literal) and isinstance(k.value, str) for k, _ in i.items)
        for i in expr.items)


def expression(expr: s.Expr, *, secret: bool = False) -> Any:
    """One argument as Terraform's expression object (a nested block: a list of expression maps)."""
    if _is_block_list(expr):
        assert isinstance(expr, s.TupleExpr)
        return [{str(k.value): expression(v) for k, v in item.items if isinstance(k, s.Literal)}
                for item in expr.items if isinstance(item, s.ObjectExpr)]
    literal = _literal(expr)
    if literal is not _NOT_LITERAL:  # most arguments: no references, nothing to evaluate
        return {} if secret else {"constant_value": literal}
    refs = references(expr)
    if refs:
        return {"references": refs}
    if secret:
        return {}
    known, value = _constant(expr)
    return {"constant_value": value} if known else {}


_NOT_LITERAL: Any = object()


def _literal(expr: s.Expr) -> Any:
    """The value of an expression made only of literals, lists and maps with literal keys; _NOT_LITERAL else."""
    if isinstance(expr, s.Literal):
        return expr.value
    if isinstance(expr, s.TupleExpr):
        items = [_literal(i) for i in expr.items]
        return _NOT_LITERAL if any(i is _NOT_LITERAL for i in items) else items
    if isinstance(expr, s.ObjectExpr):
        out = {}
        for k, v in expr.items:
            if not isinstance(k, s.Literal) or not isinstance(k.value, str):
                return _NOT_LITERAL
            value = _literal(v)
            if value is _NOT_LITERAL:
                return _NOT_LITERAL
            out[k.value] = value
        return out
    return _NOT_LITERAL


def _expressions(attributes: Mapping[str, s.Expr], secret: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {name: expression(expr, secret=name in secret) for name, expr in sorted(attributes.items())}


def _resource(decl: ResourceDecl) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": decl.address, "mode": "managed", "type": decl.type, "name": decl.name,
        "provider_config_key": decl.provider, "expressions": _expressions(decl.attributes), "schema_version": 0,
    }
    if decl.count is not None:
        out["count_expression"] = expression(decl.count)
    if decl.for_each is not None:
        out["for_each_expression"] = expression(decl.for_each)
    if decl.depends_on:
        out["depends_on"] = [r for e in decl.depends_on for r in references(e)[-1:]]
    return out


def _variable(v: VariableDecl) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if v.default is not None and not v.sensitive:
        known, value = _constant(v.default)
        if known:
            out["default"] = value
    if v.description:
        out["description"] = v.description
    if v.sensitive:
        out["sensitive"] = True
    return out


class LazyConfiguration(Mapping[str, Any]):
    """`configuration(decls)`, computed on first read: a text plan never reads it, and for a fleet of
    10,000 machines it is a noticeable part of a plan's time."""

    def __init__(self, decls: Declarations) -> None:
        self._decls = decls
        self._value: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._value is None:
            self._value = configuration(self._decls)
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def configuration(decls: Declarations) -> dict[str, Any]:
    """The `configuration` object of Terraform's plan JSON for these declarations."""
    used = sorted({d.provider for d in decls.resources.values()} | set(decls.providers))
    provider_config: dict[str, Any] = {}
    for name in used:
        entry: dict[str, Any] = {"name": name, "full_name": provider_full_name(name)}
        block = decls.providers.get(name)
        if block is not None and block.attributes:
            entry["expressions"] = _expressions(block.attributes, SECRET_PROVIDER_ARGS)
        provider_config[name] = entry
    root: dict[str, Any] = {}
    if decls.outputs:
        root["outputs"] = {name: {"expression": expression(o.expr), **({"sensitive": True} if o.sensitive else {}),
                                  **({"description": o.description} if o.description else {})}
                           for name, o in sorted(decls.outputs.items())}
    root["resources"] = [_resource(d) for _, d in sorted(decls.resources.items())]
    if decls.variables:
        root["variables"] = {name: _variable(v) for name, v in sorted(decls.variables.items())}
    return {"provider_config": provider_config, "root_module": root}
