"""The action graph of a plan, built by a short list of pure transforms `(graph, plan) -> None`.

Nodes are the addresses of changes that do something. An edge `a -> b` means "a finishes before b starts".

Why destroy edges run backwards: creation follows references (the VM before the NixOS machine on it, the
SSH key before the VM that uses it), so teardown must run the same edges in reverse: the NixOS machine is
forgotten before its VM is destroyed, and the VM before the SSH key it references. Destroying in creation
order would pull a key or network out from under a VM that still uses it.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

from reconciler.actions import Action
from reconciler.config.scope import machine_name
from reconciler.errors import GraphCycleError
from reconciler.plan.inventory import members_of
from reconciler.plan.model import Plan, ResourceChange

DESTROYING = (Action.DELETE,)


def _acting(plan: Plan) -> dict[str, ResourceChange]:
    return {c.address: c for c in plan.changes if c.action.is_change or _is_state_only(c)}


def _is_state_only(c: ResourceChange) -> bool:
    """A dormant machine that was installed: its install record is cleared (host key kept)."""
    return c.action is Action.DORMANT and c.kind == "machine" and c.before is not None


def add_nodes(g: nx.DiGraph, plan: Plan) -> None:
    for address, c in _acting(plan).items():
        g.add_node(address, action=c.action.value)


def reference_edges(g: nx.DiGraph, plan: Plan) -> None:
    """What a created, updated or installed resource references is ready before it."""
    acting = _acting(plan)
    for address, c in acting.items():
        if c.action in DESTROYING:
            continue
        for dep in c.dependencies:
            d = acting.get(dep)
            if d is not None and d.action not in DESTROYING:
                g.add_edge(dep, address)


def destroy_edges(g: nx.DiGraph, plan: Plan) -> None:
    """A destroyed resource goes before the destroyed resources it references (reverse of creation)."""
    acting = _acting(plan)
    for address, c in acting.items():
        if c.action not in DESTROYING:
            continue
        for dep in c.dependencies:
            d = acting.get(dep)
            if d is not None and d.action in (*DESTROYING, Action.REPLACE):
                g.add_edge(address, dep)


def dormant_edges(g: nx.DiGraph, plan: Plan) -> None:
    """A machine going dormant is recorded as such before its VM is destroyed."""
    acting = _acting(plan)
    for address, c in acting.items():
        if not _is_state_only(c):
            continue
        for dep in c.dependencies:
            d = acting.get(dep)
            if d is not None and d.action is Action.DELETE:
                g.add_edge(address, dep)


def replace_dependents_edges(g: nx.DiGraph, plan: Plan) -> None:
    """Something being deleted that references a replaced resource goes before that replacement."""
    acting = _acting(plan)
    replaced = {a for a, c in acting.items() if c.action is Action.REPLACE}
    if not replaced:
        return
    for other, oc in acting.items():  # one pass over the changes, not one per replacement
        if oc.action in DESTROYING:
            for dep in oc.dependencies:
                if dep in replaced:
                    g.add_edge(other, dep)


def inventory_after_edges(g: nx.DiGraph, plan: Plan) -> None:
    """`after = ["controller"]`: a role's machines deploy only after every controller deployed in this apply."""
    acting = _acting(plan)
    for first, then in plan.after_edges:
        if first in acting and then in acting and acting[first].action.is_nixos and acting[then].action.is_nixos:
            g.add_edge(first, then)


INVENTORY_NODE = "inventory"  # prefix of the barrier node a large service's readers wait on
DIRECT_EDGES_MAX = 256  # above this many (decider, reader) pairs, one barrier node per service instead


def inventory_edges(g: nx.DiGraph, plan: Plan) -> None:
    """A machine whose flake reads inventory.json is built only after everything that decides the address of
    a member of its services (the cloud resources the member's nixos_machine references) is done.

    A service of N machines whose VMs are all created would need N * N edges; past DIRECT_EDGES_MAX pairs
    the deciders lead to one barrier node `inventory.SERVICE` (no step of its own) that the readers follow.
    """
    services = plan.inventory.get("services") or {}
    if not services:
        return
    acting = _acting(plan)
    by_name = {machine_name(c.address): c for c in plan.changes if c.kind == "machine"}
    for service in sorted(services):
        members = members_of(plan.inventory, service)
        deciders: set[str] = set()
        readers: set[str] = set()
        for name in members:
            c = by_name.get(name)
            if c is None:
                continue
            if c.address in acting and c.action.is_nixos:
                readers.add(c.address)
            for dep in c.dependencies:
                d = acting.get(dep)
                if d is not None and d.action not in DESTROYING and d.kind != "machine":
                    deciders.add(dep)
        if not deciders or not readers:
            continue
        if len(deciders) * len(readers) <= DIRECT_EDGES_MAX:
            g.add_edges_from((d, r) for d in sorted(deciders) for r in sorted(readers) if d != r)
            continue
        hub = f"{INVENTORY_NODE}.{service}"
        g.add_node(hub, action=Action.NOOP.value, barrier=True)
        g.add_edges_from((d, hub) for d in sorted(deciders))
        g.add_edges_from((hub, r) for r in sorted(readers))


def is_barrier(g: nx.DiGraph, node: str) -> bool:
    return bool(g.nodes[node].get("barrier"))


TRANSFORMS: tuple[Callable[[nx.DiGraph, Plan], None], ...] = (
    add_nodes,
    reference_edges,
    destroy_edges,
    dormant_edges,
    replace_dependents_edges,
    inventory_after_edges,
    inventory_edges,
)


def build_graph(plan: Plan) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    for transform in TRANSFORMS:
        transform(g, plan)
    check_acyclic(g)
    return g


def check_acyclic(g: nx.DiGraph) -> None:
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    members = [u for u, _ in cycle]
    i = members.index(min(members))
    ordered = members[i:] + members[:i]
    raise GraphCycleError("cycle in the action graph: " + " -> ".join([*ordered, ordered[0]]),
                          hint="an inventory `after` or depends_on contradicts the references")


def ordered(g: nx.DiGraph) -> list[str]:
    """A deterministic topological order (sorted ready sets)."""
    return list(nx.lexicographical_topological_sort(g))
