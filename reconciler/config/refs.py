"""Static references between declarations: checked (nothing undeclared), then turned into a graph.

Nodes are `local.NAME`, resource addresses `TYPE.NAME` and `output.NAME`; an edge runs from what is
referenced to what references it. A cycle is reported with every member and where it was written.

The graph has one node per declaration (not per instance), and every command, `validate` included, builds
it; it is kept on the standard library's `graphlib` so that a command which never builds the plan graph
(networkx, about 0.1 s to import) does not pay for it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from graphlib import CycleError, TopologicalSorter

from reconciler.config import syntax as s
from reconciler.config.blockspec import RESOURCE_TYPES
from reconciler.config.decls import Declarations, ResourceDecl
from reconciler.config.references import references
from reconciler.errors import ConfigError, ConfigErrors, GraphCycleError, SourcePos
from reconciler.suggest import did_you_mean

BUILTIN_ROOTS = frozenset({"var", "local", "path", "count", "each", "self", "terraform"})


_REFERENCES: dict[int, tuple[s.Expr, list[s.Reference]]] = {}


def expr_references(expr: s.Expr) -> list[s.Reference]:
    """references(expr), computed once per expression object (the graph and the planner both ask)."""
    if type(expr) is s.Literal:
        return []
    hit = _REFERENCES.get(id(expr))
    if hit is not None and hit[0] is expr:
        return hit[1]
    found = references(expr)
    _REFERENCES[id(expr)] = (expr, found)
    return found


def resource_exprs(decl: ResourceDecl) -> tuple[s.Expr, ...]:
    """Every expression of a resource: its attributes, then count, for_each and enabled where set, then
    depends_on."""
    metas = [meta for meta in (decl.count, decl.for_each, decl.enabled) if meta is not None]
    return (*decl.attributes.values(), *metas, *decl.depends_on)


class _Checker:
    def __init__(self, decls: Declarations) -> None:
        self.decls = decls
        self.errors: list[ConfigError] = []

    def target(self, ref: s.Reference, *, owner: ResourceDecl | None) -> str | None:
        """The declaration node a reference points at (None for var/path/count/each), after checking it."""
        d = self.decls
        root, steps = ref.root, ref.steps
        first = steps[0] if steps else None
        if root == "var":
            if first not in d.variables:
                self.errors.append(ConfigError(f'reference to undeclared variable "var.{first}"', ref.pos,
                                               hint=did_you_mean(str(first), list(d.variables))))
            return None
        if root == "local":
            if first not in d.locals:
                self.errors.append(ConfigError(f'reference to undeclared local value "local.{first}"', ref.pos,
                                               hint=did_you_mean(str(first), list(d.locals))))
                return None
            return f"local.{first}"
        if root == "count":
            if owner is None or owner.count is None:
                self.errors.append(ConfigError('"count.index" can only be used in a resource that sets count', ref.pos))
            return None
        if root == "each":
            if owner is None or owner.for_each is None:
                self.errors.append(ConfigError('"each" can only be used in a resource that sets for_each', ref.pos))
            return None
        if root in ("path", "terraform", "self"):
            return None
        if root in RESOURCE_TYPES:
            if first is None:
                self.errors.append(ConfigError(f'a reference to "{root}" needs a resource name: {root}.NAME', ref.pos))
                return None
            address = f"{root}.{first}"
            if address not in d.resources:
                names = [a for a in d.resources if a.startswith(root + ".")]
                self.errors.append(ConfigError(f'reference to undeclared resource "{address}"', ref.pos,
                                               hint=did_you_mean(address, names)))
                return None
            if owner is not None and address == owner.address:
                self.errors.append(ConfigError(f'resource "{address}" refers to itself', ref.pos))
                return None
            return address
        if "_" in root and root not in BUILTIN_ROOTS:
            self.errors.append(ConfigError(f'unknown resource type "{root}" in reference', ref.pos,
                                           hint=did_you_mean(root, sorted(RESOURCE_TYPES))))
            return None
        self.errors.append(ConfigError(f'unknown name "{root}"', ref.pos,
                                       hint=did_you_mean(root, ["var", "local", "count", "each", "path",
                                                                *sorted(RESOURCE_TYPES)])))
        return None


class DeclGraph:
    """An acyclic graph of declarations, held as each node's set of direct dependencies. Its order and layers
    are computed once, by one pass of Kahn's algorithm (graphlib's sorter, set up three times per command,
    cost a tenth of a second on 20,000 declarations; it now only names a cycle)."""

    def __init__(self, depends_on: Mapping[str, set[str]]) -> None:
        self.depends_on = depends_on
        self._order: list[str] | None = None
        self._layers: list[list[str]] = []

    def __contains__(self, node: object) -> bool:
        return node in self.depends_on

    def __len__(self) -> int:
        return len(self.depends_on)

    def _sort(self) -> list[str]:
        if self._order is not None:
            return self._order
        dependents: dict[str, list[str]] = {}
        waiting: dict[str, int] = {}
        ready: list[str] = []
        for node, deps in self.depends_on.items():
            if deps:
                waiting[node] = len(deps)
                for dep in deps:
                    dependents.setdefault(dep, []).append(node)
            else:
                ready.append(node)
        layer_of: dict[str, int] = dict.fromkeys(ready, 0)
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            node = heapq.heappop(ready)
            out.append(node)
            level = layer_of[node] + 1
            for after in dependents.get(node, ()):
                if layer_of.get(after, -1) < level:
                    layer_of[after] = level
                left = waiting[after] - 1
                waiting[after] = left
                if not left:
                    heapq.heappush(ready, after)
        layers: list[list[str]] = []
        for node in out:
            level = layer_of[node]
            if level == len(layers):
                layers.append([])
            layers[level].append(node)
        for layer in layers:
            layer.sort()
        self._order, self._layers = out, layers
        return out

    def order(self) -> list[str]:
        """Every node after what it depends on; among the nodes ready at once, the smallest name first (the
        lexicographical topological order, the same on every run). Shorter than the graph if it has a cycle."""
        return list(self._sort())

    def generations(self) -> Iterator[list[str]]:
        """The nodes in layers: each layer depends only on the layers before it (sorted within a layer)."""
        self._sort()
        for layer in self._layers:
            yield list(layer)

    def ancestors(self, node: str) -> set[str]:
        """Everything `node` depends on, transitively."""
        seen: set[str] = set()
        todo = list(self.depends_on[node])
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(self.depends_on[dep])
        return seen


def declaration_graph(decls: Declarations) -> DeclGraph:
    """The checked graph of declarations; ConfigErrors for undeclared references, GraphCycleError for cycles."""
    checker = _Checker(decls)
    depends_on: dict[str, set[str]] = {}
    positions: dict[str, SourcePos] = {}

    literal = s.Literal

    def link(node: str, pos: SourcePos, exprs: Iterable[s.Expr], owner: ResourceDecl | None) -> None:
        deps = depends_on.setdefault(node, set())
        positions[node] = pos
        for expr in exprs:
            if type(expr) is literal:  # most attributes of a generated fleet: no references, no call
                continue
            for ref in expr_references(expr):
                dep = checker.target(ref, owner=owner)
                if dep:
                    deps.add(dep)

    for name, attr in decls.locals.items():
        link(f"local.{name}", attr.pos, (attr.expr,), None)
    for address, decl in decls.resources.items():
        link(address, decl.pos, resource_exprs(decl), decl)
    for name, out in decls.outputs.items():
        link(f"output.{name}", out.pos, (out.expr,), None)
    if checker.errors:
        raise ConfigErrors(checker.errors)
    for deps in list(depends_on.values()):
        for dep in deps:
            depends_on.setdefault(dep, set())
    graph = DeclGraph(depends_on)
    if len(graph.order()) == len(depends_on):
        return graph
    try:  # a cycle: graphlib names its members
        TopologicalSorter(depends_on).prepare()
    except CycleError as e:
        members = list(e.args[1][:-1])  # each member is a direct dependency of the next; the first repeats last
    else:
        raise AssertionError("the declaration graph has a cycle graphlib does not find")
    first = min(members, key=lambda m: (positions[m].file, positions[m].line))
    start = members.index(first)
    ordered = members[start:] + members[:start]
    raise GraphCycleError("dependency cycle: " + " -> ".join([*ordered, ordered[0]]), positions[first],
                          hint="break the cycle by removing one of these references")
