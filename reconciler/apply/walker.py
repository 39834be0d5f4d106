"""An asyncio walk of a DAG: ready nodes start in sorted order up to a global limit and per-group limits;
a failed node's descendants are skipped and reported once with the root cause; a stop request lets running
nodes finish and starts no new ones. It knows nothing of plans, providers or terminals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine

import networkx as nx

from reconciler.apply.result import WalkResult


async def walk(g: nx.DiGraph, run: Callable[[str], Coroutine[object, object, None]], *, parallelism: int,
               group_of: Callable[[str], str] = lambda n: "", group_limits: dict[str, int] | None = None,
               stop: asyncio.Event | None = None, on_skip: Callable[[str, str], None] | None = None) -> WalkResult:
    result = WalkResult()
    remaining = {n: g.in_degree(n) for n in g.nodes}
    ready = sorted(n for n, d in remaining.items() if d == 0)
    running: dict[asyncio.Task[None], str] = {}
    in_group: dict[str, int] = {}
    limits = group_limits or {}
    stop = stop or asyncio.Event()

    def next_startable() -> str | None:
        for node in ready:
            group = group_of(node)
            if in_group.get(group, 0) < limits.get(group, parallelism):
                return node
        return None

    def skip_descendants(node: str, cause: str) -> None:
        for d in sorted(nx.descendants(g, node)):
            if d not in result.skipped and d not in result.failed:
                result.skipped[d] = cause
                remaining.pop(d, None)
                if on_skip:
                    on_skip(d, cause)

    while ready or running:
        while not stop.is_set() and len(running) < max(1, parallelism):
            node = next_startable()
            if node is None:
                break
            ready.remove(node)
            in_group[group_of(node)] = in_group.get(group_of(node), 0) + 1
            running[asyncio.create_task(run(node))] = node
        if not running:
            break
        finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        newly_ready: list[str] = []
        for task in sorted(finished, key=lambda t: running[t]):
            node = running.pop(task)
            in_group[group_of(node)] -= 1
            exc = task.exception() if not task.cancelled() else asyncio.CancelledError()
            if exc is not None:
                result.failed[node] = exc
                skip_descendants(node, node)
                continue
            result.done.append(node)
            for succ in g.successors(node):
                if succ in remaining:
                    remaining[succ] -= 1
                    if remaining[succ] == 0:
                        newly_ready.append(succ)
        ready = sorted(set(ready) | set(newly_ready))
        if stop.is_set() and not running:
            break
    started = set(result.done) | set(result.failed) | set(result.skipped)
    result.not_started = sorted(n for n in g.nodes if n not in started)
    return result
