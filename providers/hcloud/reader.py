"""Read servers in batches: the final reads of steps that finish together are shared.

Two hundred creates whose actions end within the same second each want the server as it is now. Reads asked
for within `window` seconds of each other go out together as label-selector listings (this state's ownership
labels plus `reconciler-address in (...)`, 50 addresses a request) instead of one `GET /servers/{id}` each;
a lone read is still one `GET` by id, and so is any server a listing does not return (its labels were changed
by hand). Reads go out from the reader's own threads: they need no write-ahead, so they do not queue behind the
steps' writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from providers.base import LABEL_ADDRESS, address_label
from providers.hcloud.label_selector import render
from providers.hcloud.views import ServerView

T = TypeVar("T")
R = TypeVar("R")
CHUNK = 50
THREADS = 4  # requests of one batch in flight at once


@dataclass
class ServerReader:
    """`list_servers(selector)` and `get_server(id)` are blocking calls (run in threads)."""

    list_servers: Callable[[str], list[ServerView]]
    get_server: Callable[[int], ServerView | None]
    owned: Mapping[str, str]  # the ownership labels every server of this state carries
    window: float = 0.005
    requests: int = 0
    _pending: dict[int, tuple[str, list[asyncio.Future[ServerView | None]]]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _threads: ThreadPoolExecutor | None = None

    async def read(self, sid: int, address: str) -> ServerView | None:
        """Server `sid` (made for `address`) as it is now, or None when it no longer exists."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a new command, a new test): start afresh
            self._loop, self._task, self._pending = loop, None, {}
        future: asyncio.Future[ServerView | None] = loop.create_future()
        self._pending.setdefault(sid, (address, []))[1].append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._send())
        return await future

    async def _call(self, fn: Callable[[T], R], arg: T) -> R:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="hcloud-read")
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, arg)

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False)
            self._threads = None

    async def _send(self) -> None:
        await asyncio.sleep(self.window)
        pending, self._pending = self._pending, {}
        try:
            found: dict[int, ServerView] = {}
            if len(pending) > 1:
                labels = sorted({address_label(address) for address, _ in pending.values()})
                chunks = [labels[i:i + CHUNK] for i in range(0, len(labels), CHUNK)]
                base = render(dict(self.owned))
                self.requests += len(chunks)
                answers = await asyncio.gather(*(self._call(
                    self.list_servers, f"{base},{LABEL_ADDRESS} in ({','.join(chunk)})") for chunk in chunks))
                found = {v.id: v for answer in answers for v in answer if v.id in pending}
            missing = sorted(set(pending) - set(found))
            self.requests += len(missing)
            for sid, view in zip(missing, await asyncio.gather(*(self._call(self.get_server, s)
                                                                   for s in missing)), strict=True):
                if view is not None:
                    found[sid] = view
        except Exception as e:  # every reader must learn of it, or it would wait forever
            for _, futures in pending.values():
                for f in futures:
                    if not f.done():
                        f.set_exception(e)
            return
        for sid, (_, futures) in pending.items():
            for f in futures:
                if not f.done():
                    f.set_result(found.get(sid))
        if self._pending and self._loop is not None:  # reads asked for while these were out
            self._task = self._loop.create_task(self._send())
