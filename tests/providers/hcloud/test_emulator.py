"""The emulator behaves as the API documentation says: pagination meta, label selectors, name uniqueness,
actions that run and then finish on the emulated clock, RateLimit headers and 429, injected failures, the
request counter, handed-out addresses, and control over HTTP for another process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from providers.hcloud.emulator import Emulator, start_emulator
from providers.hcloud.label_selector import LabelSelectorError, Op, matches, parse

TOKEN = {"Authorization": "Bearer test-token"}


def api(emu: Emulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, emu.endpoint + path, headers=TOKEN, timeout=10, **kwargs)


def make(emu: Emulator, name: str, **extra: Any) -> dict[str, Any]:
    resp = api(emu, "POST", "/servers", json={"name": name, "server_type": "cx23", "image": "debian-12", **extra})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ("env=prod", {"env": "prod"}, True),
    ("env==prod", {"env": "dev"}, False),
    ("env!=prod", {}, True),
    ("env!=prod", {"env": "prod"}, False),
    ("env", {"env": ""}, True),
    ("!env", {"env": "x"}, False),
    ("!env", {"other": "x"}, True),
    ("env in (dev, staging)", {"env": "staging"}, True),
    ("env in (dev,staging)", {"env": "prod"}, False),
    ("env notin (dev,staging)", {"env": "prod"}, True),
    ("env notin (dev,staging)", {}, True),
    ("env=prod,tier in (web,db),!legacy", {"env": "prod", "tier": "db"}, True),
    ("env=prod,tier in (web,db),!legacy", {"env": "prod", "tier": "db", "legacy": "1"}, False),
    ("example.com/team=ops", {"example.com/team": "ops"}, True),
    ("", {"anything": "goes"}, True),
])
def test_label_selector(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matches(parse(selector), labels) is expected


def test_label_selector_parse_and_errors() -> None:
    reqs = parse(" a = 1 , b notin (x, y) ,!c")
    assert [(r.key, r.op, r.values) for r in reqs] == [("a", Op.EQ, ("1",)), ("b", Op.NOTIN, ("x", "y")),
                                                       ("c", Op.NOT_EXISTS, ())]
    for bad in ("a=1,,b", "a in (x", "a in ((x))", "=x", "a==b==c", "a in x"):
        with pytest.raises(LabelSelectorError):
            parse(bad)


def test_pagination_and_selectors_over_http(emulator: Emulator) -> None:
    for i in range(7):
        make(emulator, f"s{i}", labels={"group": "even" if i % 2 == 0 else "odd", "n": str(i)})
    page = api(emulator, "GET", "/servers", params={"per_page": 3, "page": 2}).json()
    assert [s["name"] for s in page["servers"]] == ["s3", "s4", "s5"]
    assert page["meta"]["pagination"] == {"page": 2, "per_page": 3, "previous_page": 1, "next_page": 3,
                                          "last_page": 3, "total_entries": 7}
    too_many = api(emulator, "GET", "/servers", params={"per_page": 51})
    assert too_many.status_code == 422 and too_many.json()["error"]["details"]["fields"][0]["name"] == "per_page"
    odd = api(emulator, "GET", "/servers", params={"label_selector": "group=odd,n notin (1)"}).json()
    assert [s["name"] for s in odd["servers"]] == ["s3", "s5"]
    bad = api(emulator, "GET", "/servers", params={"label_selector": "group in (x"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    desc = api(emulator, "GET", "/servers", params={"sort": "name:desc", "per_page": 2}).json()
    assert [s["name"] for s in desc["servers"]] == ["s6", "s5"]


def test_uniqueness_and_validation(emulator: Emulator) -> None:
    make(emulator, "dup")
    again = api(emulator, "POST", "/servers", json={"name": "dup", "server_type": "cx23", "image": "debian-12"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "uniqueness_error"
    for body, field in (({"name": "bad_name!"}, "name"), ({"name": "ok", "server_type": "zz9"}, "server_type"),
                        ({"name": "ok", "image": "plan9"}, "image"), ({"name": "ok", "location": "mars"}, "location"),
                        ({"name": "ok", "labels": {"bad key": "x"}}, "labels")):
        resp = api(emulator, "POST", "/servers", json={"server_type": "cx23", "image": "debian-12", **body})
        assert resp.status_code == 422, body
        assert resp.json()["error"]["details"]["fields"][0]["name"] == field
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    assert api(emulator, "POST", "/ssh_keys", json={"name": "a", "public_key": key}).status_code == 201
    same_key = api(emulator, "POST", "/ssh_keys", json={"name": "b", "public_key": key})
    assert same_key.status_code == 409 and same_key.json()["error"]["details"]["fields"][0]["name"] == "public_key"
    arm_type_in_us = api(emulator, "POST", "/servers", json={"name": "x", "server_type": "cax11", "image": "debian-12",
                                                             "location": "ash"})
    assert arm_type_in_us.json()["error"]["code"] == "unsupported_location_for_server_type"


def test_actions_run_then_finish_on_the_emulated_clock() -> None:
    with start_emulator(time_scale=1.0, token="test-token", durations={"create_server": 3600}) as emu:
        made = make(emu, "slow")
        action = api(emu, "GET", f"/actions/{made['action']['id']}").json()["action"]
        assert action["status"] == "running" and action["progress"] < 100
        assert made["server"]["status"] == "initializing"
        assert made["next_actions"][0]["command"] == "start_server"
        locked = api(emu, "POST", f"/servers/{made['server']['id']}/actions/poweroff")
        assert locked.status_code == 423 and locked.json()["error"]["code"] == "locked"
        emu.set_knobs(time_scale=1e6)  # an hour passes in a few milliseconds
        time.sleep(0.02)
        ids = [made["action"]["id"], made["next_actions"][0]["id"]]
        both = api(emu, "GET", "/actions", params={"id": ids}).json()["actions"]
        assert [a["status"] for a in both] == ["success", "success"]
        sid = made["server"]["id"]
        assert api(emu, "GET", f"/servers/{sid}").json()["server"]["status"] == "running"
        not_stopped = api(emu, "POST", f"/servers/{sid}/actions/change_type", json={"server_type": "cx33"})
        assert not_stopped.json()["error"]["code"] == "server_not_stopped"


def test_failed_actions_and_capacity_knobs(emulator: Emulator) -> None:
    emulator.set_knobs(fail_actions={"create_server": 1}, unavailable={"nbg1": ["cx23"]})
    doomed = make(emulator, "doomed")
    time.sleep(0.1)
    action = api(emulator, "GET", f"/actions/{doomed['action']['id']}").json()["action"]
    assert action["status"] == "error" and action["error"]["code"] == "action_failed"
    assert api(emulator, "GET", f"/servers/{doomed['server']['id']}").status_code == 404
    full = api(emulator, "POST", "/servers", json={"name": "x", "server_type": "cx23", "image": "debian-12",
                                                   "location": "nbg1"})
    assert full.status_code == 412 and full.json()["error"]["code"] == "resource_unavailable"
    types = api(emulator, "GET", "/server_types", params={"name": "cx23"}).json()["server_types"][0]
    assert {loc["name"]: loc["available"] for loc in types["locations"]}["nbg1"] is False


def test_rate_limit_headers_and_429() -> None:
    with start_emulator(token="test-token", rate_limit=3, rate_refill=0.001) as emu:
        first = api(emu, "GET", "/locations")
        assert first.headers["RateLimit-Limit"] == "3" and first.headers["RateLimit-Remaining"] == "2"
        assert int(first.headers["RateLimit-Reset"]) >= int(time.time())
        api(emu, "GET", "/locations")
        api(emu, "GET", "/locations")
        spent = api(emu, "GET", "/locations")
        assert spent.status_code == 429 and spent.json()["error"]["code"] == "rate_limit_exceeded"
        assert spent.headers["RateLimit-Remaining"] == "0"
        assert emu.request_counts == {"GET /locations": 4}


def test_5xx_injection_and_auth(emulator: Emulator) -> None:
    emulator.set_knobs(error_rate=1.0, seed=1)
    codes = {api(emulator, "GET", "/locations").status_code for _ in range(20)}
    assert codes <= {500, 502, 503, 504} and len(codes) > 1
    emulator.set_knobs(error_rate=0.0)
    anonymous = requests.get(emulator.endpoint + "/servers", timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"


def test_server_addresses_are_handed_out_and_reused() -> None:
    with start_emulator(token="test-token", time_scale=1000, server_ips=["10.77.0.2", "10.77.0.3"]) as emu:
        a, b, c = (make(emu, n)["server"] for n in ("a", "b", "c"))
        assert [a["public_net"]["ipv4"]["ip"], b["public_net"]["ipv4"]["ip"]] == ["10.77.0.2", "10.77.0.3"]
        assert c["public_net"]["ipv4"]["ip"] == "127.1.0.1"  # then loopback, never a public address
        assert a["public_net"]["ipv6"]["ip"].endswith("::/64")
        time.sleep(0.05)  # a server is locked while its create and start actions run
        assert api(emu, "DELETE", f"/servers/{a['id']}").status_code == 200
        time.sleep(0.05)
        d = make(emu, "d")["server"]
        assert d["public_net"]["ipv4"]["ip"] == "10.77.0.2"  # a freed test-host address comes back first
        no_v4 = make(emu, "e", public_net={"enable_ipv4": False, "enable_ipv6": True})["server"]
        assert no_v4["public_net"]["ipv4"] is None


def test_standalone_process_with_http_control() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "providers.hcloud.emulator", "--port", "0",
                             "--knobs", json.dumps({"time_scale": 50, "token": "test-token"})],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        endpoint = json.loads(proc.stdout.readline())["endpoint"]
        base = endpoint.removesuffix("/v1")
        knobs = requests.post(base + "/_emulator/knobs", json={"server_limit": 0}, timeout=10).json()
        assert knobs["server_limit"] == 0 and knobs["time_scale"] == 50
        refused = requests.post(endpoint + "/servers", headers=TOKEN, timeout=10,
                                json={"name": "x", "server_type": "cx23", "image": "debian-12"})
        assert refused.json()["error"]["code"] == "resource_limit_exceeded"
        counts = requests.get(base + "/_emulator/requests", timeout=10).json()["requests"]
        assert counts == {"POST /servers": 1}
        bad = requests.post(base + "/_emulator/knobs", json={"no_such_knob": 1}, timeout=10)
        assert bad.status_code == 400 and "no_such_knob" in bad.json()["error"]["message"]
        assert requests.delete(base + "/_emulator/requests", timeout=10).json()["requests"] == {}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_catalogue_endpoints(emulator: Emulator) -> None:
    pricing = api(emulator, "GET", "/pricing").json()["pricing"]
    cx23 = next(t for t in pricing["server_types"] if t["name"] == "cx23")
    fsn1 = next(p for p in cx23["prices"] if p["location"] == "fsn1")
    assert pricing["currency"] == "EUR" and float(fsn1["price_monthly"]["gross"]) == pytest.approx(5.49 * 1.19)
    locations = api(emulator, "GET", "/locations").json()["locations"]
    assert {loc["name"] for loc in locations} >= {"fsn1", "nbg1", "hel1", "ash", "hil", "sin"}
    one = api(emulator, "GET", f"/locations/{locations[0]['id']}").json()["location"]
    assert one == locations[0]
    arm = api(emulator, "GET", "/images", params={"architecture": "arm", "name": "debian-12"}).json()["images"]
    assert len(arm) == 1 and arm[0]["architecture"] == "arm"
    assert api(emulator, "GET", "/nothing-here").status_code == 404
