"""The test hosts themselves: reachable over SSH with their own tree, and the stand-in installer's phases."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.hosts.farm import STAND_IN, HostFarm, TestHost
from tests.hosts.flakes import TestSystem, write_flake

pytestmark = pytest.mark.hosts


def ssh(farm: HostFarm, host: TestHost, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-i", str(farm.client_key), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", host.target, command],
        capture_output=True, text=True, timeout=30,
    )


def test_hosts_have_their_own_tree(farm: HostFarm) -> None:
    a, b = farm.create(2)
    assert a.address != b.address
    (a.directory / "nix" / "only-a").write_text("a")
    out_a = ssh(farm, a, "cat /etc/os-release; ls /nix; cat /etc/ssh/ssh_host_ed25519_key.pub")
    out_b = ssh(farm, b, "ls /nix")
    assert out_a.returncode == 0, out_a.stderr
    assert "ID=ubuntu" in out_a.stdout
    assert "only-a" in out_a.stdout
    assert a.host_key.split()[1] in out_a.stdout
    assert "only-a" not in out_b.stdout


def test_recreate_keeps_address_and_changes_host_key(farm: HostFarm) -> None:
    (host,) = farm.create(1)
    (host.directory / "mnt" / "marker").write_text("x")
    fresh = farm.recreate(host)
    assert fresh.address == host.address
    assert fresh.host_key != host.host_key
    assert not (fresh.directory / "mnt" / "marker").exists()
    assert ssh(farm, fresh, "true").returncode == 0


def test_stand_in_installs_and_refuses_to_reformat(farm: HostFarm, tmp_path) -> None:
    (host,) = farm.create(1)
    flake = write_flake(tmp_path / "flake", {"m": TestSystem("1")})
    extra = tmp_path / "extra" / "etc" / "ssh"
    extra.mkdir(parents=True)
    key_pub = (host.directory / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text()
    (extra / "ssh_host_ed25519_key").write_bytes((host.directory / "etc-ssh" / "ssh_host_ed25519_key").read_bytes())
    (extra / "ssh_host_ed25519_key.pub").write_text(key_pub)
    base = [str(STAND_IN), "--flake", f"{flake}#m", "--target-host", host.target, "-i", str(farm.client_key)]
    first = subprocess.run([*base, "--phases", "kexec,disko", "--extra-files", str(tmp_path / "extra")],
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert host.os_release_id() == "nixos-installer"
    rest = subprocess.run([*base, "--phases", "install,reboot", "--extra-files", str(tmp_path / "extra")],
                          capture_output=True, text=True, timeout=120)
    assert rest.returncode == 0, rest.stderr
    assert host.os_release_id() == "nixos"
    system = host.current_system()
    assert system is not None and system.endswith("nixos-system-m-1")
    deadline = time.monotonic() + 10
    while ssh(farm, host, "true").returncode != 0:  # the reboot drops sshd for a moment
        assert time.monotonic() < deadline, "host did not come back after the reboot"
        time.sleep(0.1)
    assert host.present_host_key() == key_pub.strip()  # the installed key, not the installer's
    # a second install formats the disk again, as disko does: the old system is gone before the new one
    again = subprocess.run([*base, "--phases", "kexec,disko"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert host.current_system() is None
    assert not (host.directory / "mnt" / ".installed-system").exists()
    assert not any((host.directory / "nix").iterdir())


def test_a_delayed_link_is_netem_or_a_counting_relay(farm: HostFarm) -> None:
    from reconciler.sandbox.netns import DelayMode

    (host,) = farm.create(1, delay_ms=30)
    assert ssh(farm, host, "true").returncode == 0
    if host.delay is DelayMode.NETEM:
        assert "netem" in subprocess.run(["tc", "qdisc", "show", "dev", host.link], capture_output=True,
                                         text=True).stdout
    else:
        assert host.delay is DelayMode.RELAY
        trips = host.round_trips()
        assert trips is not None and trips >= 3  # an SSH login and a command are several round trips
    (plain,) = farm.create(1)
    assert plain.delay is DelayMode.NONE and plain.round_trips() is None
