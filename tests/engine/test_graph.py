"""Each graph transform alone, on the smallest plan that shows it."""

from __future__ import annotations

import networkx as nx
import pytest

from reconciler.actions import Action
from reconciler.errors import GraphCycleError
from reconciler.plan import graph as G
from reconciler.plan.model import Plan, ResourceChange
from reconciler.reasons import Reason


def change(address: str, action: Action, deps: tuple[str, ...] = (), kind: str = "cloud",
           before: dict[str, object] | None = None) -> ResourceChange:
    type_, name = address.split(".", 1)
    return ResourceChange(address, type_, name, type_.split("_")[0], kind, action, Reason.NONE,
                          before=before, after=None, dependencies=deps)


def plan(*changes: ResourceChange, after: tuple[tuple[str, str], ...] = ()) -> Plan:
    return Plan("l", 1, True, tuple(changes), {}, {}, after_edges=after)


def graph_of(p: Plan, *transforms: object) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    G.add_nodes(g, p)
    for t in transforms:
        t(g, p)  # type: ignore[operator]
    return g


def test_add_nodes_leaves_out_noops_and_plain_dormant() -> None:
    p = plan(change("hcloud_server.a", Action.NOOP), change("hcloud_server.b", Action.CREATE),
             change("nixos_machine.c", Action.DORMANT, kind="machine"),
             change("nixos_machine.d", Action.DORMANT, kind="machine", before={"host_key": "k"}))
    assert sorted(graph_of(p).nodes) == ["hcloud_server.b", "nixos_machine.d"]


def test_reference_edges_follow_creation() -> None:
    p = plan(change("hcloud_ssh_key.k", Action.CREATE),
             change("hcloud_server.a", Action.CREATE, ("hcloud_ssh_key.k",)),
             change("nixos_machine.a", Action.INSTALL, ("hcloud_server.a",), kind="machine"))
    g = graph_of(p, G.reference_edges)
    assert sorted(g.edges) == [("hcloud_server.a", "nixos_machine.a"), ("hcloud_ssh_key.k", "hcloud_server.a")]


def test_destroy_edges_run_backwards() -> None:
    p = plan(change("hcloud_ssh_key.k", Action.DELETE),
             change("hcloud_server.a", Action.DELETE, ("hcloud_ssh_key.k",)),
             change("nixos_machine.a", Action.DELETE, ("hcloud_server.a",), kind="machine"))
    g = graph_of(p, G.reference_edges, G.destroy_edges)
    assert sorted(g.edges) == [("hcloud_server.a", "hcloud_ssh_key.k"), ("nixos_machine.a", "hcloud_server.a")]
    assert G.ordered(g) == ["nixos_machine.a", "hcloud_server.a", "hcloud_ssh_key.k"]


def test_dormant_machine_is_recorded_before_its_vm_goes() -> None:
    p = plan(change("google_compute_instance.gpu", Action.DELETE),
             change("nixos_machine.gpu", Action.DORMANT, ("google_compute_instance.gpu",), kind="machine",
                    before={"toplevel": "/nix/store/x"}))
    g = graph_of(p, G.dormant_edges)
    assert list(g.edges) == [("nixos_machine.gpu", "google_compute_instance.gpu")]


def test_inventory_after_edges() -> None:
    p = plan(change("nixos_machine.ctl", Action.NIXOS_UPDATE, kind="machine"),
             change("nixos_machine.peer", Action.NIXOS_UPDATE, kind="machine"),
             change("nixos_machine.other", Action.NOOP, kind="machine"),
             after=(("nixos_machine.ctl", "nixos_machine.peer"), ("nixos_machine.other", "nixos_machine.peer")))
    g = graph_of(p, G.inventory_after_edges)
    assert list(g.edges) == [("nixos_machine.ctl", "nixos_machine.peer")]


def test_cycle_is_named() -> None:
    p = plan(change("nixos_machine.a", Action.NIXOS_UPDATE, kind="machine"),
             change("nixos_machine.b", Action.NIXOS_UPDATE, ("nixos_machine.a",), kind="machine"),
             after=(("nixos_machine.b", "nixos_machine.a"),))
    with pytest.raises(GraphCycleError, match=r"nixos_machine.a -> nixos_machine.b -> nixos_machine.a"):
        G.build_graph(p)


def inventory_plan(n: int, created: set[int]) -> Plan:
    """n machines, each on its own server, all in one service; the servers in `created` are made now."""
    changes = []
    for i in range(n):
        changes.append(change(f"hcloud_server.s{i}", Action.CREATE if i in created else Action.NOOP))
        changes.append(change(f"nixos_machine.m{i}", Action.INSTALL if i in created else Action.NIXOS_UPDATE,
                              (f"hcloud_server.s{i}",), kind="machine"))
    names = [f"m{i}" for i in range(n)]
    inventory = {"format": 2, "services": {"mesh": {"settings": {}, "roles": {"peer": names}}},
                 "machines": {m: {"address": None, "roles": {"mesh": ["peer"]}} for m in names}}
    return Plan("l", 1, True, tuple(changes), {}, {}, inventory=inventory)


def test_inventory_edges_from_what_decides_an_address_to_every_reader() -> None:
    g = graph_of(inventory_plan(3, {2}), G.inventory_edges)
    assert sorted(g.edges) == [("hcloud_server.s2", "nixos_machine.m0"), ("hcloud_server.s2", "nixos_machine.m1"),
                               ("hcloud_server.s2", "nixos_machine.m2")]


def test_inventory_edges_of_a_large_service_go_through_one_barrier() -> None:
    n = 40  # 40 created servers x 40 readers = 1,600 pairs > DIRECT_EDGES_MAX
    g = graph_of(inventory_plan(n, set(range(n))), G.inventory_edges)
    assert g.number_of_edges() == 2 * n  # not n * n
    assert G.is_barrier(g, "inventory.mesh")
    assert all(g.has_edge(f"hcloud_server.s{i}", "inventory.mesh") and
               g.has_edge("inventory.mesh", f"nixos_machine.m{i}") for i in range(n))
