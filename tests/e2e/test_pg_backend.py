"""The `pg` state backend through the CLI: apply writes state into PostgreSQL (no local state file), a second
run plans no changes from it, and a held lock is reported with its holder."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from providers.hcloud.emulator import Emulator as HcloudEmulator
from reconciler.sandbox.netns import hosts_required
from tests.e2e.conftest import Cli, hcloud_provider
from tests.pg import postgres, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None and not hosts_required(),
                                reason=str(unavailable_reason()))


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    with postgres() as conn_str:
        yield conn_str


def test_apply_and_plan_with_state_in_postgresql(cli: Cli, hcloud: HcloudEmulator, dsn: str) -> None:
    cli.write(hcloud_provider(hcloud.endpoint) + f"""
terraform {{
  backend "pg" {{
    conn_str    = "{dsn}"
    schema_name = "team_state"
  }}
}}
resource "hcloud_server" "db" {{
  name        = "db"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}}
""")
    assert "Apply complete: 1 done" in cli.run("apply", "--auto-approve").stdout
    assert not (cli.directory / "reconciler.state.json").exists()
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT serial, data FROM team_state.states WHERE workspace = 'default'").fetchone()
    assert row is not None
    serial, data = row
    assert data["resources"]["hcloud_server.db"]["id"] == str(hcloud.servers()[0]["id"])
    cli.run("plan", "--detailed-exitcode")
    assert json.loads(cli.run("state", "pull").stdout)["serial"] == serial
    # another session holds the lock: the plan waits for nothing and names the holder
    from reconciler.state.pg import PgBackend

    holder = PgBackend(dsn, "team_state")
    info = holder.lock("apply", 0)
    try:
        locked = cli.run("plan", code=1)
        assert f"state is locked: lock {info.id}" in locked.stderr
    finally:
        holder.unlock(info)
