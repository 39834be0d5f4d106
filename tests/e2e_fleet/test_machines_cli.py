"""`machines install|list|update` through the real CLI on test hosts, from no state at all: two machines
(`nixos_machine` only, no cloud), one installed by name, the other at another address than the configured
one (`--target-host`, as with an installer booted elsewhere); `machines list` shows both installed and up to
date; `machines update NAME` (not a dry run) deploys a changed system; and a declared `host_key` other than
the one the host presents is planned as an update and refused, naming both fingerprints."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_fleet.fleet import ROOT, Result
from tests.hosts import STAND_IN, HostFarm, TestHost, TestSystem, offline_nix_env, write_flake

pytestmark = [pytest.mark.hosts]

UNUSED_PORT = 2200  # the configured port of beta: nothing listens there; the install goes to port 22


@dataclass
class Machines:
    directory: Path
    farm: HostFarm
    alpha: TestHost
    beta: TestHost
    identity: Path

    def write(self, alpha_extra: str = "") -> None:
        text = f"""\
            resource "nixos_machine" "alpha" {{
              target_host          = "{self.alpha.address}"
              flake                = ".#alpha"
              ssh_private_key_file = "{self.farm.client_key}"
              {alpha_extra}
            }}

            resource "nixos_machine" "beta" {{
              target_host          = "{self.beta.address}"
              target_port          = {UNUSED_PORT}
              flake                = ".#beta"
              ssh_private_key_file = "{self.farm.client_key}"
            }}
            """
        (self.directory / "main.tf").write_text(textwrap.dedent(text))

    def run(self, *args: str, code: int | None = 0) -> Result:
        env = dict(offline_nix_env())
        env.update(PYTHONPATH=str(ROOT), RECONCILER_NIXOS_ANYWHERE=str(STAND_IN),
                   RECONCILER_AGE_IDENTITY=str(self.identity))
        argv = [sys.executable, "-m", "reconciler", *args, "-C", str(self.directory), "--no-color"]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.directory, env=env, timeout=240,
                              stdin=subprocess.DEVNULL)
        result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        if code is not None:
            assert result.code == code, result.explain()
        return result

    def record(self, name: str) -> dict[str, Any]:
        state = json.loads((self.directory / "reconciler.state.json").read_text())
        res: dict[str, Any] = state["resources"][f"nixos_machine.{name}"]
        return res


@pytest.fixture(scope="module")
def machines(farm: HostFarm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machines]:
    alpha, beta = farm.create(2, systemd=True)
    base = tmp_path_factory.mktemp("machines")
    directory = base / "fleet"
    directory.mkdir()
    try:
        m = Machines(directory, farm, alpha, beta, base / "age-identity.txt")
        m.write()
        write_flake(directory, {"alpha": TestSystem("1"), "beta": TestSystem("1")})
        yield m
    finally:
        for host in (alpha, beta):
            if host in farm.hosts:
                farm.destroy(host)


def test_install_with_no_state(machines: Machines) -> None:
    assert not (machines.directory / "reconciler.state.json").exists()
    result = machines.run("machines", "install", "alpha")
    assert "Apply complete: 1 done, 0 failed" in result.stdout, result.explain()
    record = machines.record("alpha")
    assert machines.alpha.os_release_id() == "nixos"
    assert machines.alpha.current_system() == record["attributes"]["toplevel"]
    assert "pending" not in record


def test_install_at_another_address_records_the_configured_one(machines: Machines) -> None:
    result = machines.run("machines", "install", "beta", "--target-host", f"root@{machines.beta.address}:22")
    assert "Apply complete: 1 done, 0 failed" in result.stdout, result.explain()
    attrs = machines.record("beta")["attributes"]
    assert attrs["target_port"] == UNUSED_PORT and attrs["target_host"] == machines.beta.address
    assert machines.beta.os_release_id() == "nixos"
    assert machines.beta.current_system() == attrs["toplevel"]


def test_list_shows_both_installed_and_up_to_date(machines: Machines) -> None:
    listed = machines.run("machines", "list").stdout.splitlines()
    rows = {line.split()[0]: line for line in listed[1:]}
    assert sorted(rows) == ["alpha", "beta"], listed
    for name, host in (("alpha", machines.alpha), ("beta", machines.beta)):
        assert host.address in rows[name] and "up to date" in rows[name], rows[name]
        assert Path(machines.record(name)["attributes"]["toplevel"]).name[:8] in rows[name]


def test_update_by_name_deploys_the_changed_system(machines: Machines) -> None:
    old = machines.record("alpha")["attributes"]["toplevel"]
    write_flake(machines.directory, {"alpha": TestSystem("2"), "beta": TestSystem("1")})
    result = machines.run("machines", "update", "alpha")
    assert "Apply complete: 1 done, 0 failed" in result.stdout, result.explain()
    new = machines.record("alpha")["attributes"]["toplevel"]
    assert new != old and new.endswith("-nixos-system-alpha-2")
    assert machines.alpha.current_system() == new
    assert "No changes." in machines.run("plan", "--no-refresh").stdout


def test_a_declared_host_key_the_host_does_not_present_is_refused(machines: Machines) -> None:
    pinned = machines.record("alpha")["attributes"]["host_key"]
    other = machines.record("beta")["attributes"]["host_key"]  # a real key, of another host
    machines.write(f'host_key             = "{other}"')
    planned = machines.run("plan", "--no-refresh", "--detailed-exitcode", code=2)
    assert "# nixos_machine.alpha will get its NixOS system updated" in planned.stdout, planned.explain()
    assert "host_key changes from the pinned" in planned.stdout, planned.explain()
    before = machines.record("alpha")
    activations = machines.alpha.activations()
    applied = machines.run("apply", "--auto-approve", "--no-refresh", code=1)
    errors = [line for line in applied.stderr.splitlines() if line.startswith("error:")]
    fingerprints = [_fingerprint(pinned), _fingerprint(other)]
    assert any(all(fp in line for fp in fingerprints) and "refusing" in line for line in errors), applied.explain()
    after = machines.record("alpha")  # a failed step keeps its write-ahead record; nothing else changed
    assert (after["attributes"], after.get("private")) == (before["attributes"], before.get("private"))
    assert machines.alpha.activations() == activations
    machines.write()  # the declared key removed again: nothing to do
    assert "No changes." in machines.run("plan", "--no-refresh").stdout


def _fingerprint(key: str) -> str:
    from reconciler.nixos.ssh import fingerprint

    return fingerprint(key)
