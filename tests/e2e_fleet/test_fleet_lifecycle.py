"""The whole fleet through the CLI, on test hosts: three Hetzner servers (for_each) with NixOS on each are
created and installed; one machine's system changes and only it is updated; one server is toggled off and on
(its host torn down and made again as a fresh Ubuntu VM) and its machine reinstalled with the same host key;
an inventory puts the controller's activation before the peers'; a failed activation is rolled back while the
other machines are updated. The tests share one fleet, installed once by the `installed` fixture; each later test
starts from a converged fleet (whatever the tests before it changed) and leaves it converged."""

from __future__ import annotations

import re

import pytest

from tests.e2e_fleet.fleet import FleetDir, Result, activation_times, machine, server, short_matches
from tests.hosts.flakes import TestSystem

pytestmark = [pytest.mark.hosts, pytest.mark.usefixtures("installed")]

NAMES = ("cinnabar", "electrum", "galena")
CONTROLLER, PEERS = "cinnabar", ("electrum", "galena")
UPDATED = "electrum"  # the machine whose system changes alone
TOGGLED = "galena"  # the server toggled off and on
FAILING = "electrum"  # the machine whose activation fails

INVENTORY = """
inventory {
  service "zerotier" {
    role "controller" { machines = ["cinnabar"] }
    role "peer" {
      machines = ["electrum", "galena"]
      after    = ["controller"]
    }
    settings = { network_name = "fleet" }
  }
}
"""


def toplevel(fleet: FleetDir, name: str) -> str:
    value = fleet.resource(machine(name))["attributes"].get("toplevel")
    assert isinstance(value, str), f"{name} has no deployed toplevel in state"
    return value


def known_hosts_lines(fleet: FleetDir) -> list[str]:
    return sorted(fleet.run("machines", "known-hosts").stdout.splitlines())


@pytest.fixture(scope="module")
def installed(fleet: FleetDir) -> Result:
    """The fleet's first apply (its output); every test after the first one needs it to have worked."""
    fleet.write_config(NAMES, TOGGLED)
    fleet.set_systems(**{n: TestSystem("1") for n in NAMES})
    return fleet.run("apply", "--auto-approve", code=None)


def test_apply_creates_the_servers_and_installs_nixos(fleet: FleetDir, installed: Result) -> None:
    applied = installed
    assert applied.code == 0, applied.explain()
    assert applied.symbols() == ({("+", server(n)) for n in NAMES} | {("+", "hcloud_ssh_key.admin")}
                                 | {(">", machine(n)) for n in NAMES}), applied.explain()
    assert "Plan: 4 to add, 0 to change, 0 to destroy.\nNixOS: 3 to install, 0 to update." in applied.stdout
    assert "Apply complete: 7 done, 0 failed" in applied.stdout

    servers = fleet.servers()
    assert sorted(servers) == sorted(NAMES)
    assert all(s["status"] == "running" for s in servers.values())
    assert {s["public_net"]["ipv4"]["ip"] for s in servers.values()} == {h.address for h in fleet.hosts}
    [key] = fleet.emulator.ssh_keys()
    assert key["public_key"] == fleet.farm.client_public_key

    vars_keys = fleet.vars_public_keys()
    pinned: dict[str, str] = {}
    for name in NAMES:
        host = fleet.host_of(name)
        attrs = fleet.resource(machine(name))["attributes"]
        assert attrs["target_host"] == host.address == servers[name]["public_net"]["ipv4"]["ip"]
        assert host.os_release_id() == "nixos"
        assert host.current_system() == attrs["toplevel"]
        assert str(attrs["toplevel"]).endswith(f"-nixos-system-{name}-1")
        # the pinned key is the generated var, and it is what the installed host's sshd presents
        assert attrs["host_key"] in vars_keys
        presented = (host.directory / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2]
        assert presented == attrs["host_key"].split()[:2]
        pinned[name] = attrs["host_key"]
    assert len(set(pinned.values())) == 3 and set(pinned.values()) == vars_keys
    state_text = (fleet.directory / "reconciler.state.json").read_text()
    assert "PRIVATE KEY" not in state_text

    # a user's own OpenSSH, holding each host to `machines known-hosts`, finds NixOS running the recorded system
    known = fleet.directory.parent / "known_hosts"
    known.write_text("\n".join(known_hosts_lines(fleet)) + "\n")
    for name in NAMES:
        out = fleet.ssh(fleet.host_of(name), known, "cat /etc/os-release; readlink /run/current-system")
        assert out.returncode == 0, out.stderr
        assert "ID=nixos" in out.stdout.splitlines()
        assert out.stdout.splitlines()[-1] == toplevel(fleet, name)


def test_second_plan_has_no_changes(fleet: FleetDir) -> None:
    before = fleet.state()
    again = fleet.run("plan", "--detailed-exitcode", code=None)
    assert again.code == 0, again.explain()
    assert "No changes." in again.stdout
    assert fleet.state()["serial"] == before["serial"]


def test_vars_get_by_machine_name_gives_the_pinned_host_key(fleet: FleetDir) -> None:
    for name in NAMES:
        got = fleet.run("vars", "get", name, "ssh_host_key/ssh_host_ed25519_key.pub", code=None)
        assert got.code == 0, got.explain()
        assert got.stdout.strip() == fleet.resource(machine(name))["attributes"]["host_key"]


def test_changing_one_system_updates_that_machine_only(fleet: FleetDir) -> None:
    old = toplevel(fleet, UPDATED)
    others = {n: fleet.host_of(n).activations() for n in NAMES if n != UPDATED}
    fleet.set_systems(**{UPDATED: TestSystem("2")})

    planned = fleet.run("plan", "--detailed-exitcode", code=2)
    assert [(s, a) for s, a, _ in planned.changes()] == [("^", machine(UPDATED))], planned.explain()
    [(_, _, detail)] = planned.changes()
    found = re.search(r'~ toplevel += "(\S+)" -> "(\S+)"', detail)
    assert found is not None, detail
    assert short_matches(found.group(1), old)
    assert found.group(2).endswith(f"-nixos-system-{UPDATED}-2")
    assert "NixOS: 0 to install, 1 to update." in planned.stdout

    dry = fleet.run("machines", "update", "--dry-run")
    assert [(s, a) for s, a, _ in dry.changes()] == [("^", machine(UPDATED))], dry.explain()
    assert toplevel(fleet, UPDATED) == old  # a dry run changes nothing

    fleet.run("apply", "--auto-approve")
    new = toplevel(fleet, UPDATED)
    assert new != old and short_matches(found.group(2), new)
    host = fleet.host_of(UPDATED)
    assert host.current_system() == new
    assert host.activations()[-2:] == [f"boot {new}", f"switch {new}"]
    assert {n: fleet.host_of(n).activations() for n in others} == others  # nothing ran anywhere else
    fleet.run("plan", "--detailed-exitcode", code=0)


def test_toggle_off_and_on_reinstalls_with_the_same_host_key(fleet: FleetDir) -> None:
    off = ("--var", f"on_{TOGGLED}=false")
    known_before = known_hosts_lines(fleet)
    vars_before = fleet.vars_snapshot()
    key = fleet.resource(machine(TOGGLED))["attributes"]["host_key"]
    host = fleet.host_of(TOGGLED)
    address = host.address

    planned = fleet.run("plan", "--detailed-exitcode", *off, code=2)
    assert planned.symbols() == {("-", server(TOGGLED)), ("z", machine(TOGGLED))}, planned.explain()
    fleet.run("apply", "--auto-approve", *off)
    assert sorted(fleet.servers()) == sorted(n for n in NAMES if n != TOGGLED)
    kept = fleet.resource(machine(TOGGLED))
    assert kept["attributes"]["host_key"] == key  # the identity stays while the VM is gone
    fleet.run("plan", "--detailed-exitcode", *off, code=0)

    # the VM is gone: what comes up at the same address next is a fresh Ubuntu with another host key
    fresh = fleet.farm.recreate(host)
    fleet.replace_host(host, fresh)
    assert fresh.address == address and fresh.os_release_id() == "ubuntu"
    assert fresh.host_key.split()[:2] != key.split()[:2]

    planned = fleet.run("plan", "--detailed-exitcode", code=2)
    assert planned.symbols() == {("+", server(TOGGLED)), (">", machine(TOGGLED))}, planned.explain()
    applied = fleet.run("apply", "--auto-approve")
    assert fleet.host_of(TOGGLED) is fresh  # the emulator gave the new server the same address
    for result in (planned, applied):
        assert "Warning" not in result.output and "not the pinned" not in result.output
        assert "new ssh_host_key" not in result.output
    attrs = fleet.resource(machine(TOGGLED))["attributes"]
    assert attrs["host_key"] == key
    assert fresh.os_release_id() == "nixos"
    assert fresh.current_system() == attrs["toplevel"]
    assert (fresh.directory / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2] == key.split()[:2]
    assert fleet.vars_snapshot() == vars_before
    assert known_hosts_lines(fleet) == known_before
    fleet.run("plan", "--detailed-exitcode", code=0)


def test_inventory_is_written_and_the_controller_activates_first(fleet: FleetDir) -> None:
    fleet.write_config(NAMES, TOGGLED, INVENTORY)
    old = {n: toplevel(fleet, n) for n in NAMES}
    fleet.set_systems(**{n: TestSystem("3") for n in NAMES})
    planned = fleet.run("plan", "--detailed-exitcode", code=2)
    assert planned.symbols() == {("^", machine(n)) for n in NAMES}, planned.explain()
    fleet.run("apply", "--auto-approve")

    addresses = {n: fleet.host_of(n).address for n in NAMES}
    inventory = fleet.inventory()
    assert inventory["services"]["zerotier"] == {"settings": {"network_name": "fleet"},
                                                 "roles": {"controller": [CONTROLLER], "peer": sorted(PEERS)}}
    doc = inventory["machines"]
    assert sorted(doc) == sorted(NAMES)
    for name in NAMES:
        assert doc[name] == {"address": addresses[name],
                             "roles": {"zerotier": ["controller"] if name == CONTROLLER else ["peer"]}}

    new = {n: toplevel(fleet, n) for n in NAMES}
    for name in NAMES:
        assert new[name] != old[name] and fleet.host_of(name).current_system() == new[name]
    times = {n: {(action, system): ns for ns, action, system in activation_times(fleet.host_of(n))} for n in NAMES}
    controller_done = times[CONTROLLER][("switch", new[CONTROLLER])]
    for peer in PEERS:
        started = times[peer][("boot", new[peer])]
        assert started > controller_done, f"{peer} began activating {(controller_done - started) / 1e6:.1f} ms " \
                                          f"before the controller's switch"


def test_failed_activation_is_rolled_back_and_the_others_updated(fleet: FleetDir) -> None:
    old = {n: toplevel(fleet, n) for n in NAMES}
    before = fleet.resource(machine(FAILING))
    fleet.set_systems(**{n: TestSystem("4", behaviour="fail" if n == FAILING else "ok") for n in NAMES})

    applied = fleet.run("apply", "--auto-approve", code=1)
    assert {(s, a) for s, a in applied.symbols()} == {("^", machine(n)) for n in NAMES}, applied.explain()
    assert "2 done, 1 failed" in applied.stdout, applied.explain()
    errors = [line for line in applied.stderr.splitlines() if line.startswith("error:")]
    assert any(machine(FAILING) in line and "rolled back" in line and "foo.service" in line for line in errors), \
        applied.explain()

    host = fleet.host_of(FAILING)
    assert host.current_system() == old[FAILING]
    assert host.activations()[-1] == f"switch {old[FAILING]}"  # switched back after the failed switch
    failed_system = host.activations()[-2].split()[1]
    assert failed_system != old[FAILING] and failed_system.endswith(f"-nixos-system-{FAILING}-4")
    after = fleet.resource(machine(FAILING))
    for attribute in ("toplevel", "host_key", "target_host"):
        assert after["attributes"][attribute] == before["attributes"][attribute]
    assert after["attributes"].get("current_toplevel", old[FAILING]) == old[FAILING]  # what the refresh saw
    assert after.get("private") == before.get("private")
    for name in NAMES:
        if name == FAILING:
            continue
        new = toplevel(fleet, name)
        assert new != old[name] and new.endswith(f"-nixos-system-{name}-4")
        assert fleet.host_of(name).current_system() == new

    # a fixed system goes through on the next apply, and the fleet is converged again
    fleet.set_systems(**{FAILING: TestSystem("5")})
    repaired = fleet.run("apply", "--auto-approve")
    assert [(s, a) for s, a, _ in repaired.changes()] == [("^", machine(FAILING))], repaired.explain()
    assert host.current_system() == toplevel(fleet, FAILING) != old[FAILING]
    assert not fleet.resource(machine(FAILING)).get("pending")
    fleet.run("plan", "--detailed-exitcode", code=0)
