"""Expansion: which instances each resource declaration has (`count`, `for_each`), and which other
instances each one depends on. These must be known at plan time, as in Terraform."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.config.decls import ResourceDecl
from reconciler.config.limits import clip, max_instances
from reconciler.config.refs import expr_references
from reconciler.config.scope import ConfigScope, instance_address
from reconciler.config.syntax import Literal
from reconciler.config.valueops import SetValue
from reconciler.errors import ConfigError
from reconciler.values import UNKNOWN, is_known


@dataclass(frozen=True)
class InstanceSpec:
    """One instance of a resource after `count` or `for_each`."""
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
        n = _count_number(n)
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not math.isfinite(n) or n < 0 \
                or int(n) != n:
            raise ConfigError(f"Invalid count argument: count must be a whole number >= 0, not {clip(repr(n))}",
                              decl.count.pos)
        if n > max_instances():
            raise ConfigError(f"count = {clip(n)} is more than {max_instances():,} instances", decl.count.pos,
                              hint="set RECONCILER_MAX_INSTANCES to allow more")
        return [InstanceSpec(instance_address(decl.type, decl.name, i), decl, i) for i in range(int(n))]
    if decl.for_each is not None:
        coll = evaluate(decl.for_each, scope)
        if coll is UNKNOWN:
            raise ConfigError("for_each depends on values known only after apply", decl.for_each.pos,
                              hint="use a variable or a local that does not depend on resource attributes")
        if isinstance(coll, dict):
            items = sorted(coll.items())
        elif isinstance(coll, SetValue) and all(isinstance(k, str) for k in coll):
            items = [(k, k) for k in sorted(set(coll))]
        elif isinstance(coll, list):
            raise ConfigError("Invalid for_each argument: for_each needs a map or a set of strings, and a list "
                              "was given", decl.for_each.pos,
                              hint="convert it with toset(...), or use a for expression to build a map")
        else:
            raise ConfigError("for_each needs a map or a set of strings", decl.for_each.pos,
                              hint='e.g. for_each = toset(["a", "b"])')
        if len(items) > max_instances():
            raise ConfigError(f"for_each has {len(items):,} keys, more than {max_instances():,} instances",
                              decl.for_each.pos, hint="set RECONCILER_MAX_INSTANCES to allow more")
        for k, _ in items:
            if not isinstance(k, str) or not is_known(k):
                raise ConfigError("for_each keys must be known strings", decl.for_each.pos)
        return [InstanceSpec(instance_address(decl.type, decl.name, k), decl, k, v) for k, v in items]
    return [InstanceSpec(decl.address, decl, None)]


def _count_number(value: Any) -> Any:
    """count converts a numeric string ("2", or an untyped --var) to a number, as Terraform does."""
    if isinstance(value, str):
        from reconciler.config.valueops import ValueProblem, to_number

        try:
            return to_number(value)
        except ValueProblem:
            return value
    return value


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


SAME_KEY = "\x00same-key"  # the instance of a for_each source with this instance's own key


@dataclass(frozen=True)
class DeclDeps:
    """Per declaration: the instances of other declarations it references (None = every instance)."""

    targets: tuple[tuple[str, str | int | None], ...]
    sensitive_attrs: tuple[str, ...]  # sorted, as a plan's changes list them


def decl_dependencies(decl: ResourceDecl, resources: Mapping[str, ResourceDecl],
                      sensitive_vars: frozenset[str]) -> DeclDeps:
    targets: list[tuple[str, str | int | None]] = []
    sensitive: set[str] = set()
    exprs = [(name, e) for name, e in decl.attributes.items() if type(e) is not Literal]  # literals reference nothing
    exprs += [("", e) for e in (decl.count, decl.enabled) if e is not None]
    own_key = "count" if decl.count is not None else "each" if decl.for_each is not None else None
    same_key = _same_key_targets([e for _, e in exprs], own_key) if own_key else set()
    source = _for_each_source(decl, resources) if decl.for_each is not None else None
    if source is not None:  # for_each = TYPE.NAME: instance k depends on TYPE.NAME[k] only
        targets.append((source, SAME_KEY))
    elif decl.for_each is not None:
        exprs.append(("", decl.for_each))
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
            key: str | int | None = SAME_KEY if address in same_key else None
            if (target.count is not None or target.for_each is not None) and len(ref.steps) > 1:
                k = ref.steps[1]
                if (target.count is not None and isinstance(k, int)) or (target.for_each is not None and
                                                                         isinstance(k, str)):
                    key = k
            targets.append((address, key))
    return DeclDeps(tuple(dict.fromkeys(targets)), tuple(sorted(sensitive)))


def _same_key_targets(exprs: list[Any], own: str) -> set[str]:
    """Resources referenced only as `TYPE.NAME[count.index]` (or `[each.key]`): instance i needs instance i."""
    from dataclasses import fields, is_dataclass

    from reconciler.config.syntax import Expr, GetAttr, Index, ScopeRef

    keyed: set[str] = set()
    other: set[str] = set()

    def base(e: Any) -> str | None:
        if isinstance(e, GetAttr) and isinstance(e.obj, ScopeRef):
            return f"{e.obj.name}.{e.name}"
        return None

    def own_index(e: Any) -> bool:
        return isinstance(e, GetAttr) and isinstance(e.obj, ScopeRef) and e.obj.name == own and \
            e.name == ("index" if own == "count" else "key")

    def visit(e: Any, indexed: bool) -> None:
        if isinstance(e, Index) and base(e.obj) and own_index(e.key):
            keyed.add(base(e.obj) or "")
            visit(e.key, False)
            return
        address = base(e)
        if address and not indexed:
            other.add(address)
        if is_dataclass(e):
            for f in fields(e):
                child = getattr(e, f.name)
                for item in (child if isinstance(child, tuple) else (child,)):
                    if isinstance(item, tuple):
                        for sub in item:
                            visit(sub, False)
                    elif isinstance(item, Expr):
                        visit(item, False)

    for expr in exprs:
        visit(expr, False)
    return keyed - other


def _for_each_source(decl: ResourceDecl, resources: Mapping[str, ResourceDecl]) -> str | None:
    from reconciler.config.syntax import GetAttr, ScopeRef

    e = decl.for_each
    if isinstance(e, GetAttr) and isinstance(e.obj, ScopeRef):
        address = f"{e.obj.name}.{e.name}"
        target = resources.get(address)
        if target is not None and target.for_each is not None:
            return address
    return None
