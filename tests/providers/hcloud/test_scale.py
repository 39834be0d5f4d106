"""Request budgets at scale, counted by the emulator: a refresh of 1,000 recorded servers in at most 22
requests, and 20 servers created together (30 s actions, emulated) in at most 8 requests each on average.
bench/hcloud_refresh.py prints the same figures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import pytest

from providers.base import RecordedResource, RefreshRequest, ownership_labels
from providers.hcloud.api import ActionView
from providers.hcloud.emulator import start_emulator
from providers.hcloud.waiter import ActionWaiter

from .conftest import LINEAGE, create, make_provider, run, server_config


def test_refresh_of_1000_recorded_servers_takes_at_most_22_requests() -> None:
    with start_emulator(time_scale=1000, token="test-token") as emu:
        records = []
        for i in range(1000):
            address = f"hcloud_server.m[{i}]"
            made = emu.add_server({"name": f"m{i}", "server_type": "cx23", "image": "ubuntu-24.04",
                                   "labels": ownership_labels(LINEAGE, address)})
            records.append(RecordedResource(address, "hcloud_server", str(made["server"]["id"]),
                                            {"name": f"m{i}", "image": "ubuntu-24.04"}))
        emu.add_server({"name": "not-ours", "server_type": "cx23", "image": "ubuntu-24.04"})
        provider = make_provider(emu, poll_interval=0.5 / 1000)
        answer = run(provider.refresh(RefreshRequest(tuple(records), ())))
        assert len(answer.found) == 1000 and not answer.gone and not answer.adopted
        assert emu.total_requests <= 22, emu.request_counts
        assert emu.request_counts["GET /servers"] == 20  # 50 a page
        assert emu.request_counts["GET /server_types"] == 1


def test_20_creates_with_30s_actions_average_at_most_8_requests() -> None:
    scale = 300.0
    with start_emulator(time_scale=scale, token="test-token",
                        durations={"create_server": 30.0, "start_server": 0.0}) as emu:
        provider = make_provider(emu, poll_interval=0.5 / scale)

        async def go() -> list[str | None]:
            results = await asyncio.gather(*(create(provider, f"hcloud_server.s{i}", server_config(name=f"s{i}"))
                                             for i in range(20)))
            return [r.id for r in results]

        ids = run(go())
        assert len(set(ids)) == 20
        assert all(s["status"] == "running" for s in emu.servers())
        assert emu.total_requests / 20 <= 8, emu.request_counts
        assert emu.request_counts["POST /servers"] == 20


def test_waiter_shares_polls_and_backs_off() -> None:
    now = [0.0]
    finish = {i: 30.0 for i in range(1, 21)}
    asked: list[list[int]] = []

    def fetch(ids: Sequence[int]) -> list[ActionView]:
        asked.append(list(ids))
        return [ActionView(i, "create_server", "success" if now[0] >= finish[i] else "running") for i in ids]

    async def sleep(seconds: float) -> None:  # emulated time: a wait passes at once
        now[0] += seconds
        await asyncio.sleep(0)

    waiter = ActionWaiter(fetch, base=0.5, cap=10.0, clock=lambda: now[0], sleep=sleep)

    async def go() -> None:
        await asyncio.gather(*(waiter.wait([i], f"s{i}") for i in range(1, 21)))

    asyncio.run(go())
    assert all(len(batch) == 20 for batch in asked)  # every poll covers every running action
    # looks at 0.5, 1.5, 3.5, 7.5, 15.5, 25.5, 35.5 s: doubling from 0.5 s, capped at 10 s
    assert waiter.polls == 7 and now[0] == 35.5


def _fake_actions(finish: dict[int, float], now: list[float], *, progress: bool,
                  asked: list[list[int]]) -> Callable[[Sequence[int]], list[ActionView]]:
    def fetch(ids: Sequence[int]) -> list[ActionView]:
        asked.append(list(ids))
        out = []
        for i in ids:
            done = now[0] >= finish[i]
            pct = int(now[0] / finish[i] * 100) if progress and not done else 0
            out.append(ActionView(i, "create_server", "success" if done else "running", None, min(pct, 99)))
        return out

    return fetch


def _emulated(now: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:  # emulated time: a wait passes at once
        now[0] += seconds
        await asyncio.sleep(0)

    return sleep


def test_waiter_looks_again_when_progress_says_the_action_ends() -> None:
    """A 3 s action seen at 16 % after 0.5 s: the next looks are at about 2.5 s (measuring how fast progress
    grows) and 3 s, not at 1.5 and 3.5 s."""
    now = [0.0]
    asked: list[list[int]] = []
    finish = {i: 3.0 for i in range(1, 201)}
    waiter = ActionWaiter(_fake_actions(finish, now, progress=True, asked=asked), base=0.5, cap=10.0,
                          clock=lambda: now[0], sleep=_emulated(now))

    async def go() -> None:
        await asyncio.gather(*(waiter.wait([i], f"s{i}") for i in range(1, 201)))

    asyncio.run(go())
    assert 3.0 <= now[0] <= 3.0 + 0.05 + 1e-9  # ends within one short interval (base / 10) of the action
    assert waiter.polls <= 8 * 5  # 200 actions = 8 requests a look (25 ids each, the API's limit); at most 5 looks
    assert all(len(batch) == 25 for batch in asked)


def test_waiter_learns_a_command_s_duration_when_progress_is_not_reported() -> None:
    """Without progress, the first action backs off (0.5, 1.5, 3.5 s); one started after it finished is looked
    at when an action of its command took that long."""
    now = [0.0]
    asked: list[list[int]] = []
    finish = {1: 3.0, 2: 3.5 + 3.0}
    waiter = ActionWaiter(_fake_actions(finish, now, progress=False, asked=asked), base=0.5, cap=10.0,
                          clock=lambda: now[0], sleep=_emulated(now))

    async def go() -> None:
        await waiter.wait([1], "first")
        assert now[0] == 3.5
        await waiter.wait([2], "second")

    asyncio.run(go())
    # the second: its first look at +0.5 s, then at +3.5 s (how long the first took), where it is done
    assert now[0] == pytest.approx(3.5 + 3.5)
    assert [b for b in asked] == [[1], [1], [1], [2], [2]]


def test_200_creates_share_their_final_reads() -> None:
    """200 servers created together: the steps whose actions one look sees finished share one label listing
    (of up to 50) for their final reads, instead of one GET each."""
    scale = 300.0
    with start_emulator(time_scale=scale, token="test-token",
                        durations={"create_server": 3.0, "start_server": 0.0}) as emu:
        provider = make_provider(emu, poll_interval=0.5 / scale)
        fetch = provider.waiter.fetch
        finishing: list[int] = []  # looks (requests of one) that saw an action finish

        def counted(ids: Sequence[int]) -> list[ActionView]:
            answer = fetch(ids)
            if any(a.status != "running" for a in answer):
                finishing.append(len(ids))
            return answer

        provider.waiter.fetch = counted

        async def go() -> list[str | None]:
            results = await asyncio.gather(*(create(provider, f"hcloud_server.s{i}", server_config(name=f"s{i}"))
                                             for i in range(200)))
            return [r.id for r in results]

        ids = run(go())
        assert len(set(ids)) == 200
        counts = emu.request_counts
        reads = counts.get("GET /servers/{id}", 0) + counts.get("GET /servers", 0)
        assert reads <= len(finishing) + 200 // 50, (counts, finishing)
        assert reads <= 200 // 5, counts  # far from one read a server
        assert provider.reader.requests == counts.get("GET /servers/{id}", 0) + counts.get("GET /servers", 0)
