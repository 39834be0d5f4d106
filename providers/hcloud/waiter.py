"""Wait for Hetzner Cloud actions with one poller per provider instead of one per server.

A look reads every action due then or soon (within its slack) with `GET /actions?id=..` (25 ids a request,
the API's limit; the requests of one look sent together, from the waiter's own threads: a read needs no
write-ahead), so two hundred servers created together share their polls instead of multiplying them. When
each action is next due adapts to how long it is expected to take:

- from its progress: the first look gives a rough end (an action at p % after t seconds ends about
  t * 100 / p seconds after it started); while that end is far, the next look is most of the way there, and
  measures the rate at which progress grows since the first (which does not depend on when the action really
  started); once near, the next look is at the end that rate gives; if the action is still running then,
  looks follow at `tail`, doubling (a step ends within one short poll interval of its action, and an action
  that overruns costs few requests);
- an action that has not started (0 %) while another action of the same wait runs (a server's
  `start_server` after its `create_server`) is looked at with that action;
- without progress, from the observed duration of earlier actions of the same command in this run;
- knowing none of this, a backoff schedule: first look after `base`, doubling to `cap` (0.5 s to 10 s).

Looks never eat the request budget: while the budget the transport reads from the API's `RateLimit-*`
headers (`budget`) is below a reserve, looks are spaced so that they use no more than the budget regains.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from providers.hcloud.views import ActionView
from reconciler.errors import ProviderError

CHUNK = 25
THREADS = 4  # requests of one look in flight at once (a look of 200 actions is 8 requests)
REFINE = 0.8  # the second look, at this fraction of the way to the first estimate of the end
RESERVE = 0.25  # below this share of the budget, looks are spaced to what the budget regains


class Budget(Protocol):
    """The transport's token bucket: requests left, its capacity, and how many it regains a second."""

    tokens: float
    capacity: float
    rate: float


@dataclass
class _Watch:
    future: asyncio.Future[ActionView]
    interval: float  # of the backoff schedule
    due: float
    what: str
    since: float  # when the wait began (the action started at about that moment)
    slack: float = 0.0  # how much earlier than `due` a look shared with other actions may read it
    group: tuple[int, ...] = ()  # the actions of the same wait
    seen: tuple[float, float] | None = None  # (when, progress) of the first look that saw progress
    end: float | None = None  # when the action is expected to end, from its progress
    overdue: float = 0.0  # the interval of looks once it runs past `end`


@dataclass
class ActionWaiter:
    """`fetch(ids)` is a blocking call (run in the waiter's threads) returning the actions with those ids."""

    fetch: Callable[[Sequence[int]], list[ActionView]]
    base: float = 0.5
    cap: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    polls: int = 0
    tail: float | None = None  # poll interval once an action is due to finish (default base / 10)
    budget: Budget | None = None
    _watches: dict[int, _Watch] = field(default_factory=dict)
    _took: dict[str, float] = field(default_factory=dict)  # command -> how long its last action took
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _threads: ThreadPoolExecutor | None = None
    _next_look: float = 0.0  # no look before this (the budget's spacing)

    @property
    def _tail(self) -> float:
        return self.tail if self.tail is not None else self.base / 10

    async def wait(self, action_ids: Sequence[int], what: str) -> list[ActionView]:
        """Wait until every action finished; raise ProviderError naming `what` if one failed."""
        if not action_ids:
            return []
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a new command, a new test): start afresh
            self._loop, self._task, self._watches, self._next_look = loop, None, {}, 0.0
            self._wake = asyncio.Event()
        futures = []
        now = self.clock()
        group = tuple(action_ids)
        for aid in action_ids:
            watch = self._watches.get(aid)
            if watch is None:
                watch = _Watch(loop.create_future(), self.base, now + self.base, what, now, self.base / 2, group)
                self._watches[aid] = watch
            futures.append(watch.future)
        assert self._wake is not None
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        results = list(await asyncio.gather(*futures))
        failed = [a for a in results if a.status == "error"]
        if failed:
            a = failed[0]
            raise ProviderError(f"{what}: action {a.command} ({a.id}) failed: {a.error or 'no reason given'}",
                                hint="look at the server in the Cloud Console; run apply again to retry",
                                code="action_failed")
        return results

    async def _fetch(self, ids: Sequence[int]) -> list[ActionView]:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="hcloud-poll")
        assert self._loop is not None
        return await self._loop.run_in_executor(self._threads, self.fetch, ids)

    async def _run(self) -> None:
        assert self._wake is not None
        while self._watches:
            now = self.clock()
            due = max(self._next_look, min(w.due for w in self._watches.values()))
            if due > now:
                self._wake.clear()
                waker = asyncio.ensure_future(self._wake.wait())
                sleeper = asyncio.ensure_future(self.sleep(due - now))
                try:
                    await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waker.cancel()
                    sleeper.cancel()
                continue
            # every action due now or soon (within its slack) is read by this look: they share its requests
            ids = sorted(aid for aid, w in self._watches.items() if w.due <= now + w.slack)
            try:
                found: dict[int, ActionView] = {}
                chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
                self.polls += len(chunks)
                self._next_look = now + self._spacing(len(chunks))
                for answer in await asyncio.gather(*(self._fetch(c) for c in chunks)):
                    found.update((a.id, a) for a in answer)
            except Exception as e:  # every waiter must learn of it, or it would wait forever
                for aid in ids:
                    watch = self._watches.pop(aid)
                    if not watch.future.done():
                        watch.future.set_exception(e)
                continue
            now = self.clock()
            for aid in ids:
                watch = self._watches[aid]
                action = found.get(aid)
                if action is None:
                    del self._watches[aid]
                    if not watch.future.done():
                        watch.future.set_exception(ProviderError(f"{watch.what}: action {aid} has vanished",
                                                                 code="not_found"))
                elif action.status != "running":
                    del self._watches[aid]
                    self._took[action.command] = now - watch.since
                    if not watch.future.done():
                        watch.future.set_result(action)
                else:
                    self._schedule(watch, action, now)
            for aid in ids:  # an action not started yet is looked at with the one of its wait that runs
                waiting = self._watches.get(aid)
                if waiting is not None and waiting.end is None:
                    ends = [w.due for a in waiting.group if (w := self._watches.get(a)) is not None and w.end]
                    if ends:
                        waiting.due, waiting.slack = max(ends), self._tail / 2

    def _spacing(self, requests: int) -> float:
        """How long the next look waits after this one: nothing while the budget is above its reserve, else
        as long as the budget takes to regain the requests this look made."""
        budget = self.budget
        if budget is None or budget.tokens >= RESERVE * budget.capacity:
            return 0.0
        return requests / max(budget.rate, 1e-6)

    def _schedule(self, watch: _Watch, action: ActionView, now: float) -> None:
        """When to look at a running action next (see the module docstring)."""
        tail = self._tail
        elapsed = now - watch.since
        if action.progress > 0:
            done = min(100.0, action.progress + 0.5)  # mid-point of a whole percentage
            if watch.seen is None or watch.seen[1] >= done:  # one look: from when the wait began
                if watch.seen is None:
                    watch.seen = (now, done)
                end = watch.since + elapsed * 100.0 / done
            else:  # two looks: the rate progress grows at
                at, was = watch.seen
                end = now + (100.0 - done) * (now - at) / (done - was)
            if watch.end is not None and now >= watch.end - tail / 2:  # it was due: overran its estimate
                watch.overdue = min(self.cap, watch.overdue * 2 if watch.overdue else tail / 2)
                watch.due, watch.slack = now + watch.overdue, watch.overdue / 2
                watch.end = max(end, now)
                return
            watch.end = end
            remaining = end - now
            if remaining > 4 * tail:  # far from the end: look again most of the way there, for a better estimate
                watch.due = now + min(self.cap, remaining * REFINE)
                watch.slack = min(remaining * (1 - REFINE) / 2, self.base)
                return
            watch.due, watch.slack = now + min(self.cap, max(tail / 4, remaining + tail / 4)), tail / 4
            return
        took = self._took.get(action.command)
        if took is not None and elapsed < took:
            watch.due, watch.slack = now + max(tail, took - elapsed), tail / 2
            return
        if watch.due <= now + watch.interval / 2:  # it was (about) due: the next step of the backoff
            watch.interval = min(self.cap, watch.interval * 2)
            watch.due, watch.slack = now + watch.interval, watch.interval / 2

    async def close(self) -> None:
        task = self._task
        if task is not None and not task.done() and self._loop is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None
