"""The DAG walker: order, limits, failure isolation, stop requests."""

from __future__ import annotations

import asyncio

import networkx as nx
import pytest

from reconciler.apply.walker import walk


def _graph(edges: list[tuple[str, str]], nodes: tuple[str, ...] = ()) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


def test_dependencies_finish_before_dependents_and_ready_sets_start_sorted() -> None:
    g = _graph([("a", "c"), ("b", "c"), ("c", "d")], nodes=("z", "y"))
    started: list[str] = []
    finished: set[str] = set()

    async def run(node: str) -> None:
        for pred in g.predecessors(node):
            assert pred in finished
        started.append(node)
        await asyncio.sleep(0)
        finished.add(node)

    result = asyncio.run(walk(g, run, parallelism=1))
    assert result.ok
    assert started == list(nx.lexicographical_topological_sort(g)) == ["a", "b", "c", "d", "y", "z"]


def test_failure_skips_only_descendants_and_reports_root_cause() -> None:
    g = _graph([("vm", "nixos"), ("nixos", "after"), ("key", "vm2"), ("vm2", "nixos2")])
    ran: list[str] = []

    async def run(node: str) -> None:
        ran.append(node)
        if node == "vm":
            raise RuntimeError("boom")

    skipped: list[tuple[str, str]] = []
    result = asyncio.run(walk(g, run, parallelism=4, on_skip=lambda n, c: skipped.append((n, c))))
    assert set(result.failed) == {"vm"}
    assert result.skipped == {"nixos": "vm", "after": "vm"}
    assert sorted(skipped) == [("after", "vm"), ("nixos", "vm")]
    assert {"key", "vm2", "nixos2"} <= set(result.done)
    assert "nixos" not in ran


@pytest.mark.parametrize(("parallelism", "group_limit"), [(3, 10), (10, 2)])
def test_parallelism_and_group_limits_hold(parallelism: int, group_limit: int) -> None:
    g = _graph([], nodes=tuple(f"n{i:02d}" for i in range(12)))
    running = 0
    peak = 0

    async def run(node: str) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    result = asyncio.run(walk(g, run, parallelism=parallelism, group_of=lambda n: "p",
                              group_limits={"p": group_limit}))
    assert result.ok and len(result.done) == 12
    assert peak == min(parallelism, group_limit)


def test_stop_request_lets_running_finish_and_starts_nothing_new() -> None:
    g = _graph([("a", "b")], nodes=("c",))
    stop = asyncio.Event()

    async def run(node: str) -> None:
        if node == "a":
            stop.set()
            await asyncio.sleep(0.01)

    result = asyncio.run(walk(g, run, parallelism=1, stop=stop))
    assert result.done == ["a"]
    assert result.not_started == ["b", "c"]
    assert not result.ok
