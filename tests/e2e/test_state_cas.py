"""Compare-and-swap state writes through the CLI, on PostgreSQL and on the local file.

A holder that hangs mid-apply is force-unlocked, another apply records a new server, then the hung process
resumes: its write must be refused (one line, no internal error), the newer state must be intact, and the
server the stale process created must not become an orphan (the other apply adopted it by its labels).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from providers.hcloud.emulator import Emulator as HcloudEmulator
from providers.hcloud.emulator import start_emulator as start_hcloud
from tests.e2e.conftest import HCLOUD_SCALE, Cli, hcloud_problems, hcloud_provider, wait_until
from tests.e2e.holding_proxy import HoldingProxy
from tests.pg import postgres, unavailable_reason

SCHEMA = "cas"


def servers(*names: str) -> str:
    return "".join(f"""
resource "hcloud_server" "{n}" {{
  name        = "{n}"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}}
""" for n in names)


PG_BACKEND = f"""
terraform {{
  backend "pg" {{
    schema_name = "{SCHEMA}"
  }}
}}
"""


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres() as conn_str:
        yield conn_str


def _pg_state(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT data FROM {SCHEMA}.states WHERE workspace = 'default'").fetchone()
    assert row is not None
    data: dict[str, Any] = row[0]
    return data


def _pg_lock_id(dsn: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT info->>'id' FROM {SCHEMA}.locks WHERE workspace = 'default'").fetchone()
    return str(row[0]) if row else None


def test_force_unlocked_pg_holder_cannot_overwrite_newer_state(cli: Cli, hcloud: HcloudEmulator, dsn: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # `backend "pg"` with only PG_CONN_STR set, as the README says
    monkeypatch.setenv("PG_CONN_STR", dsn)
    cli.write(hcloud_provider(hcloud.endpoint) + PG_BACKEND + servers("base"))
    cli.run("apply", "--auto-approve")
    # the stale holder: its create of "slow" takes 12 s of real time
    cli.write(hcloud_provider(hcloud.endpoint) + PG_BACKEND + servers("base", "slow"))
    hcloud.set_knobs(durations={"create_server": 2400.0})
    stale = cli.start("apply", "--auto-approve")
    wait_until(lambda: any(s["name"] == "slow" for s in hcloud.servers()), what="the stale create to reach the API")
    hcloud.set_knobs(durations={"create_server": 10.0})
    lock_id = _pg_lock_id(dsn)
    assert lock_id is not None
    released = cli.run("force-unlock", lock_id)
    assert "apply" in released.stdout and "later state writes will be refused" in released.stdout
    # another apply: it adopts "slow" (created by the stale process, found by its labels) and records "fresh"
    cli.write(hcloud_provider(hcloud.endpoint) + PG_BACKEND + servers("base", "slow", "fresh"))
    newer = cli.run("apply", "--auto-approve")
    assert "Apply complete" in newer.stdout, newer.explain()
    after_newer = _pg_state(dsn)
    assert sorted(after_newer["resources"]) == ["hcloud_server.base", "hcloud_server.fresh", "hcloud_server.slow"]
    # the stale process resumes when its create finishes: its write is refused, in one line, no internal error
    assert stale.wait(timeout=120) == 1
    out = cli.output_of(stale)
    assert "internal error" not in out and "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "this write was refused" in errors[0], out
    assert "released by force-unlock" in errors[0] and ".reconciler/refused/" in errors[0]
    # the newer state is intact, and nothing in the cloud is an orphan or a ghost
    final = _pg_state(dsn)
    assert final["serial"] == after_newer["serial"]
    assert final["resources"] == after_newer["resources"]
    assert hcloud_problems(hcloud, final) == []
    kept = list((cli.directory / ".reconciler" / "refused").glob("refused-*.json"))
    assert kept and "hcloud_server.slow" in json.loads(kept[0].read_text())["resources"]
    # the next run has nothing left to do
    cli.run("plan", "--detailed-exitcode")


def test_local_state_moved_under_a_writer_is_refused(cli: Cli, hcloud: HcloudEmulator) -> None:
    cli.write(hcloud_provider(hcloud.endpoint) + servers("base"))
    cli.run("apply", "--auto-approve")
    cli.write(hcloud_provider(hcloud.endpoint) + servers("base", "slow"))
    hcloud.set_knobs(durations={"create_server": 1600.0})
    stale = cli.start("apply", "--auto-approve")
    wait_until(lambda: any(s["name"] == "slow" for s in hcloud.servers()), what="the stale create to reach the API")
    hcloud.set_knobs(durations={"create_server": 10.0})
    holder = json.loads((cli.directory / "reconciler.state.json.lock").read_text())
    cli.run("force-unlock", holder["id"])
    newer = cli.run("apply", "--auto-approve")
    assert "Apply complete" in newer.stdout, newer.explain()
    written = cli.state_bytes()
    assert stale.wait(timeout=120) == 1
    out = cli.output_of(stale)
    assert "this write was refused" in out and "internal error" not in out, out
    assert cli.state_bytes() == written
    assert hcloud_problems(hcloud, cli.state()) == []


def test_next_apply_adopts_what_a_force_unlocked_holder_created(cli: Cli, dsn: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The stale holder's create reached the cloud, but its answer (the id) had not: the other apply finds
    the server by its ownership labels and adopts it; the stale holder's late record is refused."""
    monkeypatch.setenv("PG_CONN_STR", dsn)
    with start_hcloud(time_scale=HCLOUD_SCALE, token="e2e-token") as emu, HoldingProxy(emu.endpoint) as proxy:
        with psycopg.connect(dsn) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")  # the module shares one server
        cli.write(hcloud_provider(emu.endpoint) + PG_BACKEND + servers("base"))
        cli.run("apply", "--auto-approve")
        held = proxy.hold("POST", r"/servers$")
        cli.write(hcloud_provider(proxy.endpoint) + PG_BACKEND + servers("base", "slow"))
        stale = cli.start("apply", "--auto-approve")
        try:
            assert held.answered.wait(timeout=60), cli.output_of(stale)
            lock_id = _pg_lock_id(dsn)
            assert lock_id is not None
            cli.run("force-unlock", lock_id)
            assert "hcloud_server.slow" not in _pg_state(dsn)["resources"] or \
                _pg_state(dsn)["resources"]["hcloud_server.slow"].get("id") is None
            cli.write(hcloud_provider(emu.endpoint) + PG_BACKEND + servers("base", "slow", "fresh"))
            newer = cli.run("apply", "--auto-approve")
            assert "adopted" in newer.stdout, newer.explain()
        finally:
            held.release()
        assert stale.wait(timeout=120) == 1
        out = cli.output_of(stale)
        errors = [line for line in out.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "this write was refused" in errors[0], out
        final = _pg_state(dsn)
        slow = next(s for s in emu.servers() if s["name"] == "slow")
        assert final["resources"]["hcloud_server.slow"]["id"] == str(slow["id"])
        assert sorted(final["resources"]) == ["hcloud_server.base", "hcloud_server.fresh", "hcloud_server.slow"]
        assert hcloud_problems(emu, final) == []
        cli.run("plan", "--detailed-exitcode")
