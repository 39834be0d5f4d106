"""Wait for Hetzner Cloud actions with one poller per provider instead of one per server.

A look reads every action due then or soon (within its slack) with `GET /actions?id=..` (25 ids a request,
the API's limit; the requests of one look sent together), so two hundred servers created together share
their polls instead of multiplying them. When each action is next due adapts to how long it is expected to take:

- from its progress: an action at p % after t seconds should finish about t * 100 / p seconds after it
  started, so the next look is then, and if it is still running, every `tail` seconds after that, so a step
  ends within one short poll interval of its action;
- without progress (0 %, or an API that reports none), from the observed duration of earlier actions of the
  same command in this run;
- knowing neither, a backoff schedule: first look after `base`, doubling to `cap` (0.5 s to 10 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from providers.hcloud.views import ActionView
from reconciler.errors import ProviderError

CHUNK = 25


@dataclass
class _Watch:
    future: asyncio.Future[ActionView]
    interval: float  # of the backoff schedule
    due: float
    what: str
    since: float  # when the wait began (the action started at about that moment)
    slack: float = 0.0  # how much earlier than `due` a look shared with other actions may read it


@dataclass
class ActionWaiter:
    """`fetch(ids)` is a blocking call (run in a thread) returning the actions with those ids."""

    fetch: Callable[[Sequence[int]], list[ActionView]]
    base: float = 0.5
    cap: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    polls: int = 0
    tail: float | None = None  # poll interval once an action is due to finish (default base / 5)
    _watches: dict[int, _Watch] = field(default_factory=dict)
    _took: dict[str, float] = field(default_factory=dict)  # command -> how long its last action took
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def wait(self, action_ids: Sequence[int], what: str) -> list[ActionView]:
        """Wait until every action finished; raise ProviderError naming `what` if one failed."""
        if not action_ids:
            return []
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a new command, a new test): start afresh
            self._loop, self._task, self._watches = loop, None, {}
            self._wake = asyncio.Event()
        futures = []
        now = self.clock()
        for aid in action_ids:
            watch = self._watches.get(aid)
            if watch is None:
                watch = _Watch(loop.create_future(), self.base, now + self.base, what, now, self.base / 2)
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

    async def _run(self) -> None:
        assert self._wake is not None
        while self._watches:
            now = self.clock()
            due = min(w.due for w in self._watches.values())
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
                for answer in await asyncio.gather(*(asyncio.to_thread(self.fetch, c) for c in chunks)):
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

    def _schedule(self, watch: _Watch, action: ActionView, now: float) -> None:
        """When to look at a running action next (see the module docstring)."""
        tail = self.tail if self.tail is not None else self.base / 5
        elapsed = now - watch.since
        if action.progress > 0:
            expected = elapsed * 100.0 / min(100.0, action.progress + 0.5)  # mid-point of a whole percentage
            watch.due, watch.slack = now + min(self.cap, max(tail, expected - elapsed)), tail / 2
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
