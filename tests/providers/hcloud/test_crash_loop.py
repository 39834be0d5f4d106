"""The provider-level twin of the issue's kill -9 test: start creating 10 servers, stop everything at a
random moment (requests already sent still reach the API, their answers are lost, nothing after the kill
is recorded), then run "one more apply" with a fresh provider: refresh, adopt, create what is missing.
20 times in a row there must be no duplicate and no orphan."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

from providers.base import RecordedResource, RefreshRequest
from providers.hcloud.emulator import Emulator

from .conftest import create, make_provider, owned_servers, server_config

N = 10


class StateJournal:
    """Writes into a shared dict the way the engine writes state: intent first, then the id."""

    def __init__(self, state: dict[str, dict[str, Any]], address: str) -> None:
        self.state = state
        self.address = address

    def _entry(self) -> dict[str, Any]:
        return self.state.setdefault(self.address, {"id": None, "attributes": {}, "private": {}, "pending": {}})

    def intend(self, **data: Any) -> None:
        self._entry()["pending"].update({"action": "create", **data})

    def record(self, id: str, attributes: Mapping[str, Any], private: Mapping[str, Any] | None = None) -> None:
        self._entry().update(id=id, attributes=dict(attributes), private=dict(private or {}))

    def phase(self, name: str) -> None:
        return None


def addresses() -> list[str]:
    return [f"hcloud_server.fleet[{i}]" for i in range(N)]


async def interrupted_apply(emulator: Emulator, state: dict[str, dict[str, Any]], kill_after: float) -> None:
    provider = make_provider(emulator)
    tasks = [asyncio.create_task(create(provider, a, server_config(name=f"fleet{i}"), StateJournal(state, a)))
             for i, a in enumerate(addresses())]
    await asyncio.sleep(kill_after)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def one_more_apply(emulator: Emulator, state: dict[str, dict[str, Any]]) -> None:
    provider = make_provider(emulator)
    recorded = tuple(RecordedResource(a, "hcloud_server", e["id"], e["attributes"], e["private"])
                     for a, e in state.items() if e["id"] is not None)
    wanted = tuple((a, "hcloud_server") for a in addresses() if state.get(a, {}).get("id") is None)
    answer = await provider.refresh(RefreshRequest(recorded, wanted))
    for address in answer.gone:
        del state[address]
    for address, obs in answer.adopted.items():
        state[address] = {"id": obs.id, "attributes": dict(obs.attributes), "private": dict(obs.private),
                          "pending": {}}
    missing = [(i, a) for i, a in enumerate(addresses()) if state.get(a, {}).get("id") is None]
    await asyncio.gather(*(create(provider, a, server_config(name=f"fleet{i}"), StateJournal(state, a),
                                  pending=state.get(a, {}).get("pending")) for i, a in missing))
    await provider.close()


def test_twenty_random_interruptions_leave_no_duplicate_and_no_orphan(emulator: Emulator) -> None:
    rng = random.Random(20)
    for round_ in range(20):
        state: dict[str, dict[str, Any]] = {}
        kill_after = rng.uniform(0.0, 0.15)
        asyncio.run(interrupted_apply(emulator, state, kill_after))
        asyncio.run(one_more_apply(emulator, state))
        live = owned_servers(emulator)
        names = [s["name"] for s in live]
        assert sorted(names) == sorted(f"fleet{i}" for i in range(N)), (round_, kill_after, names)
        assert {str(s["id"]) for s in live} == {e["id"] for e in state.values()}, (round_, kill_after)
        for server in live:  # clear the project for the next round
            emulator.world.servers.pop(server["id"])
