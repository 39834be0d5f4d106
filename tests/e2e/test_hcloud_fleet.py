"""Issue 3 through the CLI: a small Hetzner fleet (an SSH key and three servers with for_each) is created,
re-planned without changes, one server toggled off and on again; the first of `locations = [...]` has no
capacity, so every server lands in the second and the state says so."""

from __future__ import annotations

from typing import Any

from providers.base import address_label
from providers.hcloud.emulator import Emulator

from .conftest import ADMIN_KEY, Cli, hcloud_problems, hcloud_provider, owned_servers

NODES = ("electrum", "galena", "scheelite")


def fleet_config(endpoint: str) -> str:
    nodes = ", ".join(f'"{n}"' for n in NODES)
    return hcloud_provider(endpoint) + f"""
variable "galena_enabled" {{
  type    = bool
  default = true
}}

resource "hcloud_ssh_key" "admin" {{
  name       = "admin"
  public_key = "{ADMIN_KEY}"
  labels     = {{ team = "ops" }}
}}

resource "hcloud_server" "web" {{
  for_each    = toset([{nodes}])
  enabled     = each.key == "galena" ? var.galena_enabled : true
  name        = each.key
  server_type = "cx23"
  image       = "ubuntu-24.04"
  locations   = ["fsn1", "nbg1"]
  ssh_keys    = [hcloud_ssh_key.admin.id]
  labels      = {{ fleet = "e2e", role = "web", node = each.key }}
}}

output "ips" {{
  value = {{ for k, s in hcloud_server.web : k => s.ipv4_address }}
}}
"""


def addr(node: str) -> str:
    return f'hcloud_server.web["{node}"]'


def check_fleet(emu: Emulator, state: dict[str, Any], nodes: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The emulator holds exactly `nodes`, each as the state records it; returns the servers by name."""
    assert hcloud_problems(emu, state) == []
    lineage = state["lineage"]
    servers = {s["name"]: s for s in owned_servers(emu, lineage)}
    assert sorted(servers) == sorted(nodes)
    recorded = {a for a, r in state["resources"].items() if r["type"] == "hcloud_server"}
    assert recorded == {addr(n) for n in nodes}
    key = state["resources"]["hcloud_ssh_key.admin"]
    for node, server in servers.items():
        assert server["labels"] == {
            "fleet": "e2e", "role": "web", "node": node, "managed-by": "reconciler",
            "reconciler-lineage": lineage, "reconciler-address": address_label(addr(node)),
            "reconciler-inputs": server["labels"]["reconciler-inputs"]}
        assert server["status"] == "running"
        assert server["location"]["name"] == "nbg1"  # fsn1 had no capacity
        res = state["resources"][addr(node)]
        assert res["id"] == str(server["id"])
        attrs = res["attributes"]
        assert attrs["location"] == "nbg1" and attrs["name"] == node
        assert attrs["labels"] == {"fleet": "e2e", "role": "web", "node": node}  # ownership labels stay out
        assert attrs["ipv4_address"] == server["public_net"]["ipv4"]["ip"]
        assert attrs["ssh_keys"] == [key["id"]]
        assert attrs["status"] == "running"
    if nodes == NODES:
        assert state["outputs"]["ips"]["value"] == {n: servers[n]["public_net"]["ipv4"]["ip"] for n in nodes}
    return servers


def test_fleet_create_noop_toggle_off_and_on(cli: Cli, hcloud: Emulator) -> None:
    hcloud.set_knobs(unavailable={"fsn1": ["cx23"]})
    cli.write(fleet_config(hcloud.endpoint))

    planned = cli.run("plan", "--detailed-exitcode", code=2)
    assert "Plan: 4 to add, 0 to change, 0 to destroy.\nNixOS: 0 to install, 0 to update." in planned.stdout
    assert not cli.state_path.exists()  # a plan writes no state
    assert hcloud.servers() == [] and hcloud.ssh_keys() == []

    cli.run("apply", "--auto-approve")
    state = cli.state()
    first = check_fleet(hcloud, state, NODES)
    [key] = hcloud.ssh_keys()
    assert key["name"] == "admin" and key["id"] == int(state["resources"]["hcloud_ssh_key.admin"]["id"])
    assert key["labels"]["team"] == "ops" and key["labels"]["reconciler-lineage"] == state["lineage"]
    assert key["labels"]["reconciler-address"] == address_label("hcloud_ssh_key.admin")

    before = cli.state_bytes()
    again = cli.run("plan", "--detailed-exitcode", code=0)
    assert "No changes." in again.stdout
    assert cli.state_bytes() == before  # refresh found nothing new; the plan wrote nothing

    off_plan = cli.run("plan", "--detailed-exitcode", "--var", "galena_enabled=false", code=2)
    assert f"  # {addr('galena')} will be destroyed\n  # (because enabled = false" in off_plan.stdout
    assert "0 to add, 0 to change, 1 to destroy" in off_plan.stdout
    cli.run("apply", "--auto-approve", "--var", "galena_enabled=false")
    state_off = cli.state()
    assert state_off["lineage"] == state["lineage"] and state_off["serial"] > state["serial"]
    remaining = check_fleet(hcloud, state_off, ("electrum", "scheelite"))
    assert {n: s["id"] for n, s in remaining.items()} == {n: first[n]["id"] for n in ("electrum", "scheelite")}

    dormant = cli.run("plan", "--detailed-exitcode", "--var", "galena_enabled=false", code=0)
    assert f"  # {addr('galena')} is dormant\n" in dormant.stdout

    on_plan = cli.run("plan", "--detailed-exitcode", code=2)
    assert f"  # {addr('galena')} will be created\n" in on_plan.stdout
    assert "1 to add, 0 to change, 0 to destroy" in on_plan.stdout
    cli.run("apply", "--auto-approve")
    state_on = cli.state()
    back = check_fleet(hcloud, state_on, NODES)
    assert back["galena"]["id"] != first["galena"]["id"]  # a new server ...
    assert back["galena"]["labels"] == first["galena"]["labels"]  # ... with the same name and labels
    kept = ("electrum", "scheelite")
    assert {n: back[n]["id"] for n in kept} == {n: first[n]["id"] for n in kept}
    cli.run("plan", "--detailed-exitcode", code=0)


def test_output_over_a_fleet_with_one_server_toggled_off_keeps_the_others(cli: Cli, hcloud: Emulator) -> None:
    cli.write(fleet_config(hcloud.endpoint))
    cli.run("apply", "--auto-approve", "--var", "galena_enabled=false")
    state = cli.state()
    servers = {s["name"]: s for s in owned_servers(hcloud, state["lineage"])}
    assert sorted(servers) == ["electrum", "scheelite"]
    ips = state["outputs"]["ips"]["value"]
    assert ips is not None
    assert {k: v for k, v in ips.items() if v is not None} == {
        n: servers[n]["public_net"]["ipv4"]["ip"] for n in ("electrum", "scheelite")}
