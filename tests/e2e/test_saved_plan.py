"""Saved plans through the CLI against the Hetzner emulator: `plan --out p` then `apply p` creates exactly
what was planned; applying `p` a second time is refused as stale in one line, and changes neither the state
nor the cloud."""

from __future__ import annotations

import json

from providers.hcloud.emulator import Emulator

from .conftest import ADMIN_KEY, Cli, hcloud_problems, hcloud_provider, owned_servers


def config(endpoint: str) -> str:
    return hcloud_provider(endpoint) + f"""
resource "hcloud_ssh_key" "admin" {{
  name       = "admin"
  public_key = "{ADMIN_KEY}"
}}

resource "hcloud_server" "db" {{
  count       = 2
  name        = "db-${{count.index}}"
  server_type = "cx33"
  image       = "debian-12"
  location    = "hel1"
  ssh_keys    = [hcloud_ssh_key.admin.id]
  labels      = {{ role = "db" }}
}}
"""


def test_saved_plan_applies_exactly_once_then_is_stale(cli: Cli, hcloud: Emulator) -> None:
    cli.write(config(hcloud.endpoint))
    planfile = cli.directory / "p"
    made = cli.run("plan", "--out", str(planfile))
    assert "Plan: 3 to add, 0 to change, 0 to destroy" in made.stdout
    assert hcloud.servers() == [] and hcloud.ssh_keys() == [] and not cli.state_path.exists()
    shown = json.loads(cli.run("show", str(planfile), "--json").stdout)
    planned = {c["address"] for c in shown["resource_changes"] if c["change"]["actions"] == ["create"]}
    assert planned == {"hcloud_ssh_key.admin", "hcloud_server.db[0]", "hcloud_server.db[1]"}

    # the configuration changes after the plan was saved: the saved plan still applies what it planned
    cli.write(config(hcloud.endpoint).replace("count       = 2", "count       = 5"))
    applied = cli.run("apply", str(planfile))
    assert "Apply complete: 3 done, 0 failed" in applied.stdout
    state = cli.state()
    assert set(state["resources"]) == planned
    assert hcloud_problems(hcloud, state) == []
    assert sorted(s["name"] for s in owned_servers(hcloud, state["lineage"])) == ["db-0", "db-1"]
    assert [k["name"] for k in hcloud.ssh_keys()] == ["admin"]

    before = cli.state_bytes()
    backup = (cli.directory / "reconciler.state.json.backup").read_bytes()
    requests = hcloud.request_counts
    stale = cli.run("apply", str(planfile), code=1)
    assert len(stale.error_lines) == 1 and stale.stderr.count("\n") == 1, stale.explain()
    assert "saved plan is stale" in stale.error_lines[0]
    assert f"serial {state['serial']} of lineage {state['lineage']}" in stale.error_lines[0]
    assert cli.state_bytes() == before
    assert (cli.directory / "reconciler.state.json.backup").read_bytes() == backup
    assert hcloud.request_counts == requests  # refused before any call to the cloud
    assert len(hcloud.servers()) == 2
