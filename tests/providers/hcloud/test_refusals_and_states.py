"""The emulator refuses what the Hetzner Cloud API refuses (from its own catalogue and the reference's error
statuses), models the states a real project shows (`starting`, `locked`, `conflict`, `placement_error`,
`maintenance`, `protected`, a server without `datacenter`), and the provider copes with each of them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest
import requests

from providers.base import ApplyRequest, RecordedResource, RefreshRequest
from providers.hcloud.emulator import Emulator, start_emulator
from providers.hcloud.views import ActionView
from providers.hcloud.waiter import ActionWaiter
from reconciler.actions import Action
from reconciler.errors import ProviderError
from tests.providers.hcloud.conftest import (
    Journal,
    create,
    make_provider,
    owned_servers,
    plan_one,
    recorded,
    run,
    server_config,
)

TOKEN = {"Authorization": "Bearer test-token"}
ADDR = "hcloud_server.web"


def api(emu: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, emu.endpoint + path, headers=TOKEN, timeout=10, **kwargs)


def post_server(emu: Emulator, **body: Any) -> requests.Response:
    return api(emu, "POST", "/servers", json={"name": "x", "server_type": "cx23", "image": "debian-12", **body})


def error(resp: requests.Response) -> tuple[int, str, str]:
    err = resp.json()["error"]
    fields = (err.get("details") or {}).get("fields") or [{}]
    return resp.status_code, err["code"], str(fields[0].get("name", ""))


# ------------------------------------------------------------------------------------ refusals over HTTP
@pytest.mark.parametrize(("body", "expected"), [
    ({"server_type": "cx22"}, (422, "invalid_input", "server_type")),  # unavailable after 2025-12-31
    ({"server_type": "cpx11", "location": "fsn1"}, (422, "invalid_input", "server_type")),
    ({"image": "windows-11"}, (422, "invalid_input", "image")),
    ({"firewalls": [{"firewall": 99}]}, (422, "invalid_input", "firewalls")),
    ({"labels": {"hetzner.cloud/x": "y"}}, (422, "invalid_input", "labels")),
    ({"labels": {"ok": "x" * 64}}, (422, "invalid_input", "labels")),
    ({"name": "web_01"}, (422, "invalid_input", "name")),
    ({"backups": True}, (422, "invalid_input", "backups")),  # not a field of POST /servers
])
def test_create_refusals(emulator: Emulator, body: dict[str, Any], expected: tuple[int, str, str]) -> None:
    assert error(post_server(emulator, **body)) == expected
    assert emulator.servers() == []


def test_what_the_api_accepts(emulator: Emulator) -> None:
    emulator.set_knobs(firewalls=[7])
    made = post_server(emulator, name="web.example.com", server_type="cpx11", location="ash",
                       firewalls=[{"firewall": 7}], labels={"example.com/team": "ops", "empty": ""})
    assert made.status_code == 201, made.text
    server = made.json()["server"]
    assert "datacenter" not in server and server["location"]["name"] == "ash"
    assert server["public_net"]["firewalls"] == [{"id": 7, "status": "applied"}]
    stype = server["server_type"]
    assert {loc["name"]: loc["deprecation"] for loc in stype["locations"]}["fsn1"] == {
        "announced": "2025-10-16T00:00:00+00:00", "unavailable_after": "2025-12-31T00:00:00+00:00"}
    assert {loc["name"]: loc["available"] for loc in stype["locations"]} == {
        "fsn1": False, "nbg1": False, "hel1": False, "ash": True, "hil": True, "sin": False}


def test_listing_limits_and_removed_endpoints(emulator: Emulator) -> None:
    assert error(api(emulator, "GET", "/servers", params={"per_page": 51})) == (422, "invalid_input", "per_page")
    assert error(api(emulator, "GET", "/servers", params={"per_page": 0}))[0] == 422
    removed = api(emulator, "GET", "/actions")
    assert removed.status_code == 410 and removed.json()["error"]["code"] == "deprecated_api_endpoint"
    many = api(emulator, "GET", "/actions", params={"id": list(range(1, 27))})
    assert error(many) == (422, "invalid_input", "id")
    assert api(emulator, "GET", "/actions", params={"id": list(range(1, 26))}).status_code == 200


def test_readonly_token_is_401_token_readonly(emulator: Emulator) -> None:
    emulator.set_knobs(readonly_token="ro")
    resp = requests.post(emulator.endpoint + "/servers", headers={"Authorization": "Bearer ro"}, timeout=10,
                         json={"name": "x", "server_type": "cx23", "image": "debian-12"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "token_readonly"


def test_writes_are_locked_while_an_action_runs_and_protection_refuses_delete() -> None:
    with start_emulator(time_scale=1.0, token="test-token", durations={"create_server": 3600}) as emu:
        sid = post_server(emu).json()["server"]["id"]
        assert error(api(emu, "PUT", f"/servers/{sid}", json={"name": "y"}))[:2] == (423, "locked")
        assert error(api(emu, "DELETE", f"/servers/{sid}"))[:2] == (423, "locked")
        assert error(api(emu, "PUT", f"/servers/{sid}", json={"nickname": "y"}))[:2] == (422, "invalid_input")
        emu.set_knobs(time_scale=100000.0)
        time.sleep(0.05)
        assert api(emu, "GET", f"/servers/{sid}").json()["server"]["status"] == "running"
        emu.set_knobs(protected=["x"])
        assert error(api(emu, "DELETE", f"/servers/{sid}"))[:2] == (423, "protected")


def test_status_is_starting_between_create_and_running() -> None:
    with start_emulator(time_scale=1.0, token="test-token", durations={"create_server": 0.0,
                                                                       "start_server": 3600}) as emu:
        sid = post_server(emu).json()["server"]["id"]
        time.sleep(0.05)
        assert api(emu, "GET", f"/servers/{sid}").json()["server"]["status"] == "starting"


# ------------------------------------------------------------------------------------ the provider copes
def test_provider_waits_for_starting_and_retries_locked_conflict_maintenance(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    made = run(create(provider, ADDR, server_config()))
    assert made.attributes["status"] == "running"
    emulator.set_knobs(lock_writes=2, conflict_writes=1, maintenance=2)
    req = ApplyRequest(ADDR, "hcloud_server", Action.UPDATE, server_config(labels={"role": "db"}),
                       recorded(ADDR, made))
    updated = run(provider.apply(req, Journal()))
    assert updated.attributes["labels"] == {"role": "db"}
    assert emulator.request_counts["PUT /servers/{id}"] == 4  # locked twice, conflict once, then done
    emulator.set_knobs(lock_writes=1)
    gone = run(provider.apply(ApplyRequest(ADDR, "hcloud_server", Action.DELETE, {}, recorded(ADDR, updated)),
                              Journal()))
    assert gone.id is None and owned_servers(emulator) == []


def test_provider_deletes_a_server_still_being_created(emulator: Emulator) -> None:
    emulator.set_knobs(durations={"create_server": 400.0})  # 2 s real at the fixture's scale
    provider = make_provider(emulator)
    sid = api(emulator, "POST", "/servers", json={"name": "web", "server_type": "cx23", "image": "debian-12",
                                                  "labels": {"role": "web"}}).json()["server"]["id"]
    prior = RecordedResource(ADDR, "hcloud_server", str(sid), {})
    gone = run(provider.apply(ApplyRequest(ADDR, "hcloud_server", Action.DELETE, {}, prior), Journal()))
    assert gone.id is None and emulator.servers() == []
    assert emulator.request_counts["DELETE /servers/{id}"] == 2  # locked, then (after the create) accepted


def test_placement_error_falls_back_to_the_next_location(emulator: Emulator) -> None:
    emulator.set_knobs(placement_error=1)
    journal = Journal()
    made = run(create(make_provider(emulator), ADDR, server_config(location=None, locations=["fsn1", "nbg1"]),
                      journal))
    assert made.attributes["location"] == "nbg1"


def test_protected_and_unknown_firewall_are_one_clear_error(emulator: Emulator) -> None:
    with pytest.raises(ProviderError) as err:
        run(create(make_provider(emulator), ADDR, server_config(firewall_ids=[42])))
    assert err.value.code == "invalid_input" and "firewalls" in err.value.message
    made = run(create(make_provider(emulator), ADDR, server_config()))
    emulator.set_knobs(protected=["web"])
    with pytest.raises(ProviderError) as err:
        run(make_provider(emulator).apply(ApplyRequest(ADDR, "hcloud_server", Action.DELETE, {},
                                                       recorded(ADDR, made)), Journal()))
    assert err.value.code == "protected" and "disable-protection" in (err.value.hint or "")


def test_the_waiter_asks_for_at_most_25_ids_a_request() -> None:
    asked: list[int] = []

    def fetch(ids: Sequence[int]) -> list[ActionView]:
        asked.append(len(ids))
        return [ActionView(i, "create_server", "success") for i in ids]

    waiter = ActionWaiter(fetch, base=0.001, cap=0.001)
    done = asyncio.run(waiter.wait(list(range(1, 61)), "sixty creates"))
    assert len(done) == 60 and asked == [25, 25, 10]


def test_the_catalogue_read_during_a_refresh_carries_the_deprecations(emulator: Emulator) -> None:
    provider = make_provider(emulator)
    run(provider.refresh(RefreshRequest((), ((ADDR, "hcloud_server"),))))
    assert provider.catalog.source.startswith("api /server_types")
    [problem] = plan_one(provider, ADDR, server_config(server_type="cx22"), None).problems
    assert "no new servers after 2025-12-31" in problem.message and problem.hint == "use cx23, its successor"
    assert not plan_one(provider, ADDR, server_config(server_type="cpx11", location="hil"), None).problems
