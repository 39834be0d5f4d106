"""The one model of a configuration: its declarations, variables, the declaration graph and its order, each
declaration's instances and dependencies, and a scope built from instance values. It is built once per
command from the loaded configuration and shared by the planner, the apply runner (re-evaluation, outputs),
`validate` and the library, so the topological evaluate-and-collect loop is written here once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from reconciler.config.decls import Declarations
from reconciler.config.evaluator import evaluate_collecting
from reconciler.config.loader import Configuration
from reconciler.config.refs import declaration_graph
from reconciler.config.scope import ConfigScope
from reconciler.errors import ConfigError, ConfigErrors
from reconciler.plan.expansion import (
    DeclDeps,
    InstanceSpec,
    collect_value,
    decl_dependencies,
    expand,
    placeholder_value,
)


class Model:
    def __init__(self, config: Configuration, variables: Mapping[str, Any]) -> None:
        self.config = config
        self.decls: Declarations = config.decls
        self.directory: Path = config.directory
        self.variables = dict(variables)
        self.graph = declaration_graph(self.decls)
        self.order: list[str] = self.graph.order()
        self.sensitive_variables = frozenset(n for n, d in self.decls.variables.items() if d.sensitive)
        self.deps: dict[str, DeclDeps] = {a: decl_dependencies(d, self.decls.resources, self.sensitive_variables)
                                          for a, d in self.decls.resources.items()}
        self._expansions: dict[str, list[InstanceSpec]] | None = None
        self._upstream: dict[str, list[str]] = {}
        self._position = {node: i for i, node in enumerate(self.order)}

    def new_scope(self, locals_: Mapping[str, Any] | None = None,
                  resources: Mapping[str, Mapping[str, Any]] | None = None) -> ConfigScope:
        return ConfigScope(self.directory, self.variables, {} if locals_ is None else locals_,
                           {} if resources is None else resources)

    def evaluate_locals(self, names: Iterable[str], scope: ConfigScope, errors: list[ConfigError]) -> None:
        out = scope.locals
        assert isinstance(out, dict)
        for name in names:
            out[name] = evaluate_collecting(self.decls.locals[name].expr, scope, errors)

    def expansions(self) -> dict[str, list[InstanceSpec]]:
        """Every declaration's instances, evaluating locals with resources still unknown (computed once)."""
        if self._expansions is not None:
            return self._expansions
        resources: dict[str, dict[str, Any]] = {}
        scope = self.new_scope({}, resources)
        out: dict[str, list[InstanceSpec]] = {}
        errors: list[ConfigError] = []
        for node in self.order:
            if node.startswith("local."):
                self.evaluate_locals([node[6:]], scope, errors)
            elif node in self.decls.resources:
                decl = self.decls.resources[node]
                try:
                    out[node] = expand(decl, scope)
                except ConfigError as e:
                    errors.append(e)
                    out[node] = []
                resources.setdefault(decl.type, {})[decl.name] = placeholder_value(decl, out[node])
        if errors:
            raise ConfigErrors(errors)
        self._expansions = out
        return out

    def scope(self, value_of: Callable[[InstanceSpec], Any], *, upstream_of: str | None = None,
              present: Callable[[InstanceSpec], bool] | None = None) -> ConfigScope:
        """A scope where every resource (only those `upstream_of` a declaration depends on, and the locals among
        them, when given) holds the instance values `value_of` gives; `present` leaves instances out of a
        for_each map."""
        expansions = self.expansions()
        resources: dict[str, dict[str, Any]] = {}
        scope = self.new_scope({}, resources)
        errors: list[ConfigError] = []
        for node in (self.order if upstream_of is None else self.upstream(upstream_of)):
            if node.startswith("local."):
                self.evaluate_locals([node[6:]], scope, errors)
            elif node in self.decls.resources:
                decl = self.decls.resources[node]
                specs = expansions[node]
                if present is not None and decl.for_each is not None:
                    specs = [s for s in specs if present(s)]
                values = {s.address: value_of(s) for s in specs}
                resources.setdefault(decl.type, {})[decl.name] = collect_value(decl, specs, values)
        if errors:
            raise ConfigErrors(errors)
        return scope

    def upstream(self, decl_address: str) -> list[str]:
        """What a declaration depends on, transitively, in evaluation order (computed once per declaration, so
        re-evaluating one instance per apply step costs what it depends on, not the whole configuration)."""
        found = self._upstream.get(decl_address)
        if found is None:
            found = self._upstream[decl_address] = sorted(self.graph.ancestors(decl_address),
                                                          key=self._position.__getitem__)
        return found
