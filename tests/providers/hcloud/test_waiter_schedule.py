"""When the action waiter looks: at the end an action's progress rate gives (not a backoff step after it), a
server's start action together with its create, a bounded number of looks for an action that overruns, and
looks spaced by the request budget when it runs low. Emulated time: a wait passes at once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from providers.hcloud.views import ActionView
from providers.hcloud.waiter import ActionWaiter


@dataclass
class FakeAction:
    command: str
    started: float
    finishes: float

    def view(self, aid: int, now: float) -> ActionView:
        if now >= self.finishes:
            return ActionView(aid, self.command, "success", None, 100)
        span = self.finishes - self.started
        progress = 0 if now < self.started else min(99, int((now - self.started) / span * 100))
        return ActionView(aid, self.command, "running", None, progress)


class World:
    """Actions on an emulated clock; records when each look happened and what it asked for."""

    def __init__(self, actions: dict[int, FakeAction]) -> None:
        self.now = 0.0
        self.actions = actions
        self.looks: list[tuple[float, list[int]]] = []

    def fetch(self, ids: Sequence[int]) -> list[ActionView]:
        self.looks.append((self.now, list(ids)))
        return [self.actions[i].view(i, self.now) for i in ids]

    def sleeper(self) -> Callable[[float], Awaitable[None]]:
        async def sleep(seconds: float) -> None:
            self.now += seconds
            await asyncio.sleep(0)

        return sleep

    def waiter(self, **kwargs: object) -> ActionWaiter:
        return ActionWaiter(self.fetch, base=0.5, cap=10.0, clock=lambda: self.now, sleep=self.sleeper(),
                            **kwargs)  # type: ignore[arg-type]


def test_a_step_ends_within_a_short_interval_of_its_action_even_if_it_started_before_the_wait() -> None:
    """The action ran 0.3 s before the wait began (the POST's answer took that long): its first look
    underestimates the end, the second measures the rate of progress, the step ends just after the action."""
    world = World({1: FakeAction("create_server", -0.3, 2.7)})
    waiter = world.waiter()
    asyncio.run(waiter.wait([1], "create"))
    tail = waiter.base / 10
    assert 2.7 <= world.now <= 2.7 + tail
    assert len(world.looks) <= 5  # first look, the refining one, at the end, and at most two short ones after


def test_a_start_action_is_looked_at_with_its_create() -> None:
    """`start_server` (0 % until the create is done, then instant) follows its create's schedule instead of
    the backoff (which would look at 3.5 s, then 7.5 s)."""
    world = World({1: FakeAction("create_server", 0.0, 3.0), 2: FakeAction("start_server", 3.0, 3.0)})
    waiter = world.waiter()
    asyncio.run(waiter.wait([1, 2], "create"))
    assert 3.0 <= world.now <= 3.0 + waiter.base / 10
    assert all(ids == [1, 2] for _, ids in world.looks)  # the two share every look


def test_an_action_that_overruns_its_estimate_is_looked_at_ever_less_often() -> None:
    """Progress says 3 s, the action takes 12 s (stuck at 99 % from 3 s): the looks after the estimate double
    from a short interval to the cap, so a slow action costs few requests."""

    class Stuck(FakeAction):
        def view(self, aid: int, now: float) -> ActionView:
            if now >= self.finishes:
                return ActionView(aid, self.command, "success", None, 100)
            return ActionView(aid, self.command, "running", None, min(99, int(now / 3.0 * 100)))

    world = World({1: Stuck("create_server", 0.0, 12.0)})
    waiter = world.waiter()
    asyncio.run(waiter.wait([1], "create"))
    assert world.now >= 12.0
    # at most 4 looks up to the estimate, then 25 ms doubling: 9 looks cover the 9 s it overran by
    assert len(world.looks) <= 4 + 9 + 1, [t for t, _ in world.looks]


@dataclass
class Budget:
    tokens: float
    capacity: float = 3600.0
    rate: float = 1.0


def test_looks_are_spaced_by_what_the_budget_regains_when_it_runs_low() -> None:
    """50 actions (2 requests a look) with 100 of 3600 requests left, regaining one a second: looks at least
    2 s apart; with the budget full, the same wait looks as often as progress asks."""
    def actions() -> dict[int, FakeAction]:
        return {i: FakeAction("create_server", 0.0, 3.0 + i / 100) for i in range(1, 51)}

    low = World(actions())
    asyncio.run(low.waiter(budget=Budget(tokens=100.0)).wait(list(range(1, 51)), "creates"))
    times = sorted({t for t, _ in low.looks})
    assert all(b - a >= 2.0 - 1e-9 for a, b in itertools.pairwise(times)), times

    full = World(actions())
    asyncio.run(full.waiter(budget=Budget(tokens=3600.0)).wait(list(range(1, 51)), "creates"))
    full_times = sorted({t for t, _ in full.looks})
    assert full_times[-1] <= 3.5 + 0.05  # the last action ends at 3.5 s
    assert len(full_times) > len(times)
