"""On test hosts: an interrupted install resumes without reformatting; an installed machine is not installed
again; a VM toggled off and on (fresh "Ubuntu" at the same address) is reinstalled with the same host key and no
host-key error; a host presenting another key is refused."""

from __future__ import annotations

import asyncio

import pytest

from providers.base import ApplyRequest, RecordedResource
from reconciler.actions import Action
from reconciler.errors import HostKeyError
from reconciler.nixos.errors import InstallError
from reconciler.vars import VarsStore, public_host_key
from tests.hosts.farm import HostFarm
from tests.hosts.flakes import TestSystem, write_flake
from tests.nixos.helpers import Journal, apply, close, machine_config, plan_one, provider, recorded, refresh

pytestmark = pytest.mark.hosts


def test_interrupted_install_resumes_without_reformatting(farm: HostFarm, tmp_path, monkeypatch) -> None:
    write_flake(tmp_path, {"beta": TestSystem("1")})
    (host,) = farm.create(1)
    prov = provider(tmp_path)
    address = "nixos_machine.beta"
    try:
        plan = plan_one(prov, address, machine_config(farm, host, ".#beta"), None)
        monkeypatch.setenv("NIXOS_ANYWHERE_FAIL_PHASE", "install")
        journal = Journal()
        with pytest.raises(InstallError) as err:
            apply(prov, Action.INSTALL, address, plan.planned, None, journal)
        assert err.value.phase == "install"
        assert "failed in phase install" in err.value.message
        assert journal.install_phases == ["kexec", "disko"]
        # what the engine would have in state after the crash
        _, attrs, private = journal.records[-1]
        prior = RecordedResource(address, "nixos_machine", "beta", attrs, private)
        assert attrs["toplevel"] is None and private == {"install_phase": "disko"}
        sentinel = host.directory / "mnt" / "data-written-after-disko"
        sentinel.write_text("must survive")

        monkeypatch.delenv("NIXOS_ANYWHERE_FAIL_PHASE")
        journal = Journal()
        resp = apply(prov, Action.INSTALL, address, plan.planned, prior, journal)
        assert journal.install_phases == ["install", "reboot"]  # resumed after disko
        assert sentinel.read_text() == "must survive"  # disko did not run again
        assert str(resp.attributes["toplevel"]).endswith("-nixos-system-beta-1")
        assert resp.attributes["toplevel"] == host.current_system()
        assert resp.private == {"install_phase": "done"}

        # state lost: an INSTALL of a machine that already answers as installed NixOS with its pinned key
        journal = Journal()
        again = apply(prov, Action.INSTALL, address, plan.planned, None, journal)
        assert journal.install_phases == []
        assert "already installed" in journal.phases
        assert again.attributes["toplevel"] == host.current_system()
        assert (host.directory / "mnt" / ".installed-system").exists()
    finally:
        close(prov)


def test_toggle_off_and_on_keeps_the_host_key(farm: HostFarm, tmp_path) -> None:
    write_flake(tmp_path, {"gamma": TestSystem("1")})
    (host,) = farm.create(1)
    prov = provider(tmp_path)
    address = "nixos_machine.gamma"
    config = machine_config(farm, host, ".#gamma")
    try:
        plan = plan_one(prov, address, config, None)
        state = recorded(address, apply(prov, Action.INSTALL, address, plan.planned, None))
        key = state.attributes["host_key"]
        assert key == public_host_key(VarsStore(tmp_path / "vars"), "gamma")

        fresh = farm.recreate(host)  # the VM is turned off and on: a new Ubuntu with a new key, same address
        assert fresh.address == host.address and fresh.os_release_id() == "ubuntu"
        assert fresh.host_key.split()[:2] != key.split()[:2]
        # refresh before the reinstall: the new VM's key is not the pinned one; said, never trusted
        seen = refresh(prov, state)
        assert seen.found[address].attributes["toplevel"] == state.attributes["toplevel"]
        assert any("not the pinned" in w for w in seen.warnings)

        plan = plan_one(prov, address, config, state)
        assert plan.planned["host_key"] == key  # the same identity is planned
        journal = Journal()
        resp = apply(prov, Action.INSTALL, address, plan.planned, state, journal)
        assert journal.install_phases == ["kexec", "disko", "install", "reboot"]
        assert resp.attributes["host_key"] == key
        assert (fresh.directory / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2] == key.split()[:2]
        assert fresh.current_system() == resp.attributes["toplevel"] == state.attributes["toplevel"]
        back = refresh(prov, recorded(address, resp))
        assert back.warnings == ()
    finally:
        close(prov)


def test_host_with_wrong_key_is_refused(farm: HostFarm, tmp_path) -> None:
    write_flake(tmp_path, {"delta": TestSystem("1")})
    (host,) = farm.create(1)  # an Ubuntu host whose key is not the one we pin
    prov = provider(tmp_path)
    address = "nixos_machine.delta"
    try:
        other_key = plan_one(prov, "nixos_machine.delta", machine_config(farm, host, ".#delta"), None)
        pinned = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm1Gj4qA8hQy7TjZ5n3w0hG0r3bJx2KfN1o9aQ3c2mE"
        config = machine_config(farm, host, ".#delta", host_key=pinned)
        plan = plan_one(prov, address, config, None)
        assert plan.planned["host_key"] == pinned
        state = RecordedResource(address, "nixos_machine", "delta",
                                 {**plan.planned, "toplevel": "/nix/store/00000000000000000000000000000000-old"})
        with pytest.raises(HostKeyError) as err:
            apply(prov, Action.NIXOS_UPDATE, address, plan.planned, state)
        assert "refusing" in err.value.message
        assert host.host_key.split()[1] not in err.value.message  # fingerprints, not keys
        assert host.activations() == []  # nothing was run there
        assert other_key.planned["toplevel"] == plan.planned["toplevel"]
    finally:
        close(prov)


def test_install_at_another_address(farm: HostFarm, tmp_path) -> None:
    """`machines install NAME --target-host H`: reach the machine at H for this install; state keeps the
    configured address (here a port nothing listens on yet, as when the VM will be moved behind a forward)."""
    write_flake(tmp_path, {"zeta": TestSystem("1")})
    (host,) = farm.create(1)
    prov = provider(tmp_path)
    address = "nixos_machine.zeta"
    try:
        config = machine_config(farm, host, ".#zeta", target_port=2200)
        plan = plan_one(prov, address, config, None)
        request = ApplyRequest(address, "nixos_machine", Action.INSTALL, plan.planned, None,
                               connect_to=f"root@{host.address}:22")
        resp = asyncio.run(prov.apply(request, Journal()))
        assert resp.attributes["target_port"] == 2200
        assert resp.attributes["toplevel"] == host.current_system()
        assert host.os_release_id() == "nixos"
    finally:
        close(prov)
