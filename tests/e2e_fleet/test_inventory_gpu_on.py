"""The GPU node toggled on while the cloud is slow (the emulator's latency knob): the peers read the node's
address from inventory.json, so each must be built only once that address is known. The test flake here
builds each machine's inventory view (its services' members and their addresses, read from inventory.json
as a flake would) into its system as `/run/current-system/inventory`; after the apply every peer runs a
system whose view names the node's address, and the next plan is empty (no stale system left behind)."""

from __future__ import annotations

import json

import pytest

from tests.e2e_fleet.fleet import FleetDir, machine, server
from tests.hosts.flakes import TestSystem

pytestmark = [pytest.mark.hosts]

NAMES = ("cinnabar", "electrum", "scheelite")
GPU, PEERS = "scheelite", ("cinnabar", "electrum")
OFF = ("--var", f"on_{GPU}=false")
LATENCY = 0.2  # real seconds added to every cloud API request during the toggle

INVENTORY = """
inventory {
  service "mesh" {
    role "peer" { machines = ["cinnabar", "electrum", "scheelite"] }
    settings = { network = "fleet" }
  }
}
"""

VIEW = """
      inv = if builtins.pathExists ./inventory.json then builtins.fromJSON (builtins.readFile ./inventory.json)
            else { services = { }; machines = { }; };
      members = svc: builtins.concatLists (builtins.attrValues inv.services.${svc}.roles);
      view = name: builtins.toJSON (builtins.mapAttrs
        (svc: roles: map (m: { name = m; address = inv.machines.${m}.address or null; }) (members svc))
        ((inv.machines.${name} or { }).roles or { }));
"""


def write_inventory_flake(fleet: FleetDir) -> None:
    """The fleet's test flake, with each system carrying its inventory view."""
    fleet.set_systems(**{n: TestSystem("1") for n in NAMES})
    path = fleet.directory / "flake.nix"
    text = path.read_text()
    anchors = ("machines = builtins.fromJSON (builtins.readFile ./machines.json);\n", "script = spec.script;",
               "echo ${name} > $out/name")
    for anchor in anchors:
        assert anchor in text, f"tests/hosts/flakes.py changed: no {anchor!r} in its flake"
    text = text.replace(anchors[0], anchors[0] + VIEW)
    text = text.replace(anchors[1], anchors[1] + " inventory = view name;")
    text = text.replace(anchors[2], anchors[2] + "\n          printf '%s' \"$inventory\" > $out/inventory")
    path.write_text(text)


def running_view(fleet: FleetDir, name: str) -> dict[str, list[dict[str, object]]]:
    host = fleet.host_of(name)
    system = host.current_system()
    assert system is not None
    text = (host.directory / system.lstrip("/") / "inventory").read_text()
    data: dict[str, list[dict[str, object]]] = json.loads(text)
    return data


def test_gpu_on_with_a_slow_cloud_builds_every_peer_with_the_node_address(fleet: FleetDir) -> None:
    fleet.write_config(NAMES, GPU, INVENTORY)
    write_inventory_flake(fleet)
    first = fleet.run("apply", "--auto-approve", *OFF)
    assert "Apply complete" in first.stdout, first.explain()
    fleet.run("plan", "--detailed-exitcode", *OFF, code=0)

    fleet.emulator.set_knobs(latency=LATENCY)
    planned = fleet.run("plan", "--detailed-exitcode", code=2)
    assert planned.symbols() == ({("+", server(GPU)), (">", machine(GPU))} |
                                 {("^", machine(p)) for p in PEERS}), planned.explain()
    graph = fleet.run("graph").stdout  # the action graph has an edge from the node's server to each peer
    for peer in PEERS:
        assert f"{_dot(server(GPU))} -> {_dot(machine(peer))};" in graph, graph
    applied = fleet.run("apply", "--auto-approve")
    assert "Apply complete" in applied.stdout, applied.explain()
    fleet.emulator.set_knobs(latency=0.0)

    address = fleet.resource(server(GPU))["attributes"]["ipv4_address"]
    for peer in PEERS:
        view = running_view(fleet, peer)
        assert {"name": GPU, "address": address} in view["mesh"], (peer, view)
        assert fleet.resource(machine(peer))["attributes"]["toplevel"] == fleet.host_of(peer).current_system()
    fleet.run("plan", "--detailed-exitcode", code=0)


def _dot(address: str) -> str:
    return '"' + address.replace('"', '\\"') + '"'
