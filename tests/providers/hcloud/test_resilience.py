"""Never lose track, never duplicate, converge under a hostile API: a crash right after POST /servers,
retries that meet `uniqueness_error`, 429 storms and budgets, 10 % 5xx, capacity fallbacks, and the errors
that must fail at once with a message that says what to do."""

from __future__ import annotations

import asyncio

import pytest

from providers.base import ApplyRequest, RefreshRequest
from providers.hcloud.emulator import Emulator
from reconciler.actions import Action
from reconciler.errors import ProviderError

from .conftest import (
    Journal,
    SimulatedCrash,
    create,
    make_provider,
    owned_servers,
    plan_one,
    recorded,
    run,
    server_config,
)

ADDR = "hcloud_server.web"
CLOUD_INIT = "#cloud-config\npackages: [git]\n"


def test_crash_right_after_create_is_adopted_by_the_next_refresh(emulator: Emulator) -> None:
    config = server_config(user_data=CLOUD_INIT)
    with pytest.raises(SimulatedCrash):
        run(create(make_provider(emulator), ADDR, config, Journal(crash_on_record=True)))
    [made] = owned_servers(emulator)

    fresh = make_provider(emulator)  # the next run knows nothing but the wanted address
    answer = run(fresh.refresh(RefreshRequest((), ((ADDR, "hcloud_server"), ("hcloud_server.other", "hcloud_server")))))
    assert set(answer.adopted) == {ADDR} and answer.adopted[ADDR].id == str(made["id"])
    adopted = recorded(ADDR, answer.adopted[ADDR])
    plan = plan_one(fresh, ADDR, config, adopted)
    assert plan.requires_replace == ()  # made from this very configuration: the digest label says so
    assert plan.planned["user_data"] == CLOUD_INIT and adopted.attributes["user_data"] is None

    updated = run(fresh.apply(ApplyRequest(ADDR, "hcloud_server", Action.UPDATE, config, adopted), Journal()))
    assert updated.id == str(made["id"]) and updated.attributes["user_data"] == CLOUD_INIT
    again = plan_one(fresh, ADDR, config, recorded(ADDR, updated))
    assert again.requires_replace == () and not any("read back" in n for n in again.notes)
    assert len(owned_servers(emulator)) == 1 and emulator.request_counts["POST /servers"] == 1


def test_adopted_server_made_from_another_configuration_is_replaced(emulator: Emulator) -> None:
    with pytest.raises(SimulatedCrash):
        run(create(make_provider(emulator), ADDR, server_config(user_data=CLOUD_INIT),
                   Journal(crash_on_record=True)))
    fresh = make_provider(emulator)
    answer = run(fresh.refresh(RefreshRequest((), ((ADDR, "hcloud_server"),))))
    plan = plan_one(fresh, ADDR, server_config(user_data="#cloud-config\n"), recorded(ADDR, answer.adopted[ADDR]))
    assert plan.requires_replace == ("user_data",)


def test_retry_of_an_interrupted_create_adopts_instead_of_creating(emulator: Emulator) -> None:
    with pytest.raises(SimulatedCrash):
        run(create(make_provider(emulator), ADDR, server_config(), Journal(crash_on_record=True)))
    journal = Journal()
    again = run(create(make_provider(emulator), ADDR, server_config(), journal,
                       pending={"action": "create", "name": "web"}))
    [made] = owned_servers(emulator)
    assert again.id == str(made["id"]) and journal.records[0][0] == again.id
    assert again.attributes["status"] == "running"
    assert emulator.request_counts["POST /servers"] == 1


def test_uniqueness_error_on_retry_adopts_our_server(emulator: Emulator) -> None:
    emulator.set_knobs(create_then_fail=1)  # the server is made, but the answer is a 503
    journal = Journal()
    result = run(create(make_provider(emulator), ADDR, server_config(), journal))
    [made] = owned_servers(emulator)
    assert result.id == str(made["id"]) and result.attributes["status"] == "running"
    assert [r[0] for r in journal.records][-1] == result.id
    assert emulator.request_counts["POST /servers"] == 2  # the retry met uniqueness_error and adopted


def test_name_taken_by_someone_else_fails_with_the_way_out(emulator: Emulator) -> None:
    run(create(make_provider(emulator, lineage="another-state"), "hcloud_server.x", server_config()))
    with pytest.raises(ProviderError) as err:
        run(create(make_provider(emulator), ADDR, server_config()))
    assert err.value.code == "uniqueness_error"
    assert "already exists and is not managed by this state" in err.value.message
    assert err.value.hint is not None and f"reconciler import {ADDR}" in err.value.hint
    assert len(emulator.servers()) == 1


def test_location_fallback(emulator: Emulator) -> None:
    emulator.set_knobs(unavailable={"fsn1": [], "nbg1": ["cx23"]})
    journal = Journal()
    config = {**server_config(), "location": None, "locations": ["fsn1", "nbg1", "hel1"]}
    result = run(create(make_provider(emulator), ADDR, config, journal))
    assert result.attributes["location"] == "hel1" and result.attributes["locations"] == ["fsn1", "nbg1", "hel1"]
    assert any("no capacity in fsn1" in p for p in journal.phases)
    assert emulator.request_counts["POST /servers"] == 3
    replan = plan_one(make_provider(emulator), ADDR, config, recorded(ADDR, result))
    assert replan.requires_replace == () and replan.planned["location"] == "hel1"

    emulator.set_knobs(unavailable={"fsn1": [], "nbg1": [], "hel1": []})
    with pytest.raises(ProviderError) as err:
        run(create(make_provider(emulator), "hcloud_server.b", {**config, "name": "b"}))
    assert err.value.code == "resource_unavailable"
    for loc in ("fsn1", "nbg1", "hel1"):
        assert loc in err.value.message
    assert err.value.hint is not None and "locations" in err.value.hint


@pytest.mark.parametrize(("knobs", "config", "code", "words"), [
    ({}, {"server_type": "cx999"}, "invalid_input", "server_type"),
    ({"server_limit": 0}, {}, "resource_limit_exceeded", "raise the limit"),
])
def test_fail_fast_errors(emulator: Emulator, knobs: dict[str, object], config: dict[str, object], code: str,
                          words: str) -> None:
    emulator.set_knobs(**knobs)
    with pytest.raises(ProviderError) as err:
        run(create(make_provider(emulator), ADDR, server_config(**config)))
    assert err.value.code == code and not err.value.retryable
    assert words in " ".join(err.value.lines())
    assert emulator.request_counts["POST /servers"] == 1  # no retries
    assert emulator.servers() == []


def test_bad_or_missing_token_fails_at_once(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProviderError) as err:
        run(make_provider(emulator, token="wrong").refresh(RefreshRequest((), ((ADDR, "hcloud_server"),))))
    assert err.value.code == "unauthorized" and "HCLOUD_TOKEN" in (err.value.hint or "")
    assert emulator.request_counts["GET /servers"] == 1
    emulator.set_knobs(readonly_token="read-only")
    with pytest.raises(ProviderError) as err:
        run(create(make_provider(emulator, token="read-only"), ADDR, server_config()))
    assert err.value.code == "token_readonly" and "Read & Write" in (err.value.hint or "")
    monkeypatch.delenv("HCLOUD_TOKEN", raising=False)
    before = emulator.total_requests
    provider = make_provider(emulator, token=None)
    with pytest.raises(ProviderError) as err:
        run(provider.refresh(RefreshRequest((), ((ADDR, "hcloud_server"),))))
    assert "no Hetzner Cloud API token" in err.value.message and emulator.total_requests == before
    monkeypatch.setenv("HCLOUD_TOKEN", "test-token")
    assert run(make_provider(emulator, token=None).refresh(RefreshRequest((), ()))).found == {}


async def _create_many(emulator: Emulator, n: int) -> list[str | None]:
    provider = make_provider(emulator)
    results = await asyncio.gather(*(create(provider, f"hcloud_server.s{i}", server_config(name=f"s{i}"))
                                     for i in range(n)))
    await provider.close()
    return [r.id for r in results]


def test_429_storm_converges(emulator: Emulator) -> None:
    emulator.set_knobs(storm_429=25)
    ids = run(_create_many(emulator, 6))
    assert len(set(ids)) == 6 and len(owned_servers(emulator)) == 6
    assert all(s["status"] == "running" for s in owned_servers(emulator))
    assert emulator.world.knobs.storm_429 == 0  # every 429 of the storm was met and outlasted


def test_small_budget_is_paced_by_the_headers(emulator: Emulator) -> None:
    # 3 requests of budget, regained at 40 a second real time: pacing must spread the 6 creates' requests
    # (6 POSTs, shared action polls, one batched final read: about 10)
    emulator.set_knobs(rate_limit=3, rate_refill=40 / 200)
    provider = make_provider(emulator)

    async def go() -> None:
        await asyncio.gather(*(create(provider, f"hcloud_server.s{i}", server_config(name=f"s{i}"))
                               for i in range(6)))

    run(go())
    assert len(owned_servers(emulator)) == 6
    assert provider.api.adapter.stats["throttled"] > 0  # the bucket held requests back


def test_ten_percent_5xx_converges(emulator: Emulator) -> None:
    emulator.set_knobs(error_rate=0.1, seed=7)
    provider = make_provider(emulator)
    created = run(_create_many(emulator, 10))
    assert len(set(created)) == 10 and len(owned_servers(emulator)) == 10
    listed = owned_servers(emulator)
    records = tuple(recorded(f"hcloud_server.{s['name']}", _Resp(str(s["id"]))) for s in listed)
    answer = run(provider.refresh(RefreshRequest(records, ())))
    assert len(answer.found) == 10 and not answer.gone

    async def delete_all() -> None:
        await asyncio.gather(*(provider.apply(ApplyRequest(r.address, "hcloud_server", Action.DELETE, {}, r),
                                              Journal()) for r in records))

    run(delete_all())
    assert owned_servers(emulator) == []
    assert provider.api.adapter.stats["retried"] > 0


class _Resp:
    def __init__(self, id_: str) -> None:
        self.id = id_
        self.attributes: dict[str, object] = {}
        self.private: dict[str, object] = {}
