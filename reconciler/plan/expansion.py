"""Expansion: which instances each resource declaration has (`count`, `for_each`), and which other
instances each one depends on. These must be known at plan time, as in Terraform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.config.decls import ResourceDecl
from reconciler.config.refs import expr_references
from reconciler.config.scope import ConfigScope, instance_address
from reconciler.errors import ConfigError
from reconciler.values import UNKNOWN, is_known


@dataclass(frozen=True)
class InstanceSpec:
    address: str
    decl: ResourceDecl
    key: str | int | None
    each_value: Any = None

    def scope(self, base: ConfigScope) -> ConfigScope:
        if self.decl.count is not None:
            return base.child(count_index=self.key if isinstance(self.key, int) else None)
        if self.decl.for_each is not None:
            return base.child(each=(self.key, self.each_value))
        return base


def expand(decl: ResourceDecl, scope: ConfigScope) -> list[InstanceSpec]:
    from reconciler.config.evaluator import evaluate

    if decl.count is not None:
        n = evaluate(decl.count, scope)
        if not is_known(n):
            raise ConfigError("count depends on values known only after apply", decl.count.pos,
                              hint="use a variable or a local that does not depend on resource attributes")
        if isinstance(n, bool) or not isinstance(n, int | float) or n < 0 or int(n) != n:
            raise ConfigError(f"count must be a whole number >= 0, not {n!r}", decl.count.pos)
        return [InstanceSpec(instance_address(decl.type, decl.name, i), decl, i) for i in range(int(n))]
    if decl.for_each is not None:
        coll = evaluate(decl.for_each, scope)
        if coll is UNKNOWN:
            raise ConfigError("for_each depends on values known only after apply", decl.for_each.pos,
                              hint="use a variable or a local that does not depend on resource attributes")
        if isinstance(coll, dict):
            items = sorted(coll.items())
        elif isinstance(coll, list) and all(isinstance(k, str) for k in coll):
            if len(set(coll)) != len(coll):
                raise ConfigError("for_each list has duplicate values; use toset()", decl.for_each.pos)
            items = [(k, k) for k in sorted(coll)]
        else:
            raise ConfigError("for_each needs a map or a set of strings", decl.for_each.pos,
                              hint='e.g. for_each = toset(["a", "b"])')
        for k, _ in items:
            if not isinstance(k, str) or not is_known(k):
                raise ConfigError("for_each keys must be known strings", decl.for_each.pos)
        return [InstanceSpec(instance_address(decl.type, decl.name, k), decl, k, v) for k, v in items]
    return [InstanceSpec(decl.address, decl, None)]


def placeholder_value(decl: ResourceDecl, specs: list[InstanceSpec]) -> Any:
    """What `TYPE.NAME` yields before its instances are planned: the right shape, unknown contents."""
    if decl.count is not None:
        return [UNKNOWN for _ in specs]
    if decl.for_each is not None:
        return {s.key: UNKNOWN for s in specs}
    return UNKNOWN


def collect_value(decl: ResourceDecl, specs: list[InstanceSpec], values: Mapping[str, Any]) -> Any:
    """`TYPE.NAME` as an expression sees it: one object, a list (count) or a map (for_each)."""
    if decl.count is not None:
        return [values[s.address] for s in specs]
    if decl.for_each is not None:
        return {s.key: values[s.address] for s in specs}
    return values[specs[0].address]


@dataclass(frozen=True)
class DeclDeps:
    """Per declaration: the instances of other declarations it references (None = every instance)."""

    targets: tuple[tuple[str, str | int | None], ...]
    sensitive_attrs: frozenset[str]


def decl_dependencies(decl: ResourceDecl, resources: Mapping[str, ResourceDecl],
                      sensitive_vars: frozenset[str]) -> DeclDeps:
    targets: list[tuple[str, str | int | None]] = []
    sensitive: set[str] = set()
    exprs = [(name, e) for name, e in decl.attributes.items()]
    exprs += [("", e) for e in (decl.count, decl.for_each, decl.enabled) if e is not None]
    exprs += [("", e) for e in decl.depends_on]
    for attr, expr in exprs:
        for ref in expr_references(expr):
            if ref.root == "var" and ref.steps and ref.steps[0] in sensitive_vars and attr:
                sensitive.add(attr)
            if not ref.steps:
                continue
            address = f"{ref.root}.{ref.steps[0]}"
            target = resources.get(address)
            if target is None or target is decl:
                continue
            key: str | int | None = None
            if (target.count is not None or target.for_each is not None) and len(ref.steps) > 1:
                k = ref.steps[1]
                if (target.count is not None and isinstance(k, int)) or (target.for_each is not None and
                                                                         isinstance(k, str)):
                    key = k
            targets.append((address, key))
    return DeclDeps(tuple(dict.fromkeys(targets)), frozenset(sensitive))
