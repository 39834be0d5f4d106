"""On test hosts: install, a no-op plan, an update; then rollback after a failed activation and the magic
rollback after a deploy that cuts SSH off, on the same installed machine (each leaves it as it found it)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from providers.base import ApplyResponse, ImportRequest, RecordedResource, RefreshRequest, RefreshResponse
from reconciler.actions import Action
from reconciler.errors import CommandError
from reconciler.nixos import NixosProvider, known_hosts_text
from reconciler.nixos.errors import RolledBackError
from reconciler.values import UNKNOWN
from reconciler.vars import VarsStore, public_host_key
from tests.hosts.farm import HostFarm, TestHost
from tests.hosts.flakes import TestSystem, write_flake
from tests.nixos.helpers import Journal, apply, close, machine_config, plan_one, provider, recorded, refresh

pytestmark = pytest.mark.hosts

ADDRESS = "nixos_machine.alpha"


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@dataclass
class Installed:
    farm: HostFarm
    host: TestHost
    workdir: Path
    prov: NixosProvider
    config: dict[str, object]
    state: RecordedResource

    def write(self, system: TestSystem) -> None:
        write_flake(self.workdir, {"alpha": system})


@pytest.fixture(scope="module")
def installed(farm: HostFarm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    workdir = tmp_path_factory.mktemp("alpha")
    write_flake(workdir, {"alpha": TestSystem("1")})
    (host,) = farm.create(1)
    prov = provider(workdir)
    config = machine_config(farm, host, ".#alpha")
    plan = plan_one(prov, ADDRESS, config, None)
    assert plan.planned["toplevel"] is UNKNOWN  # a new machine's system is evaluated by its install
    assert any("ssh_host_key" in note for note in plan.notes)
    journal = Journal()
    resp = apply(prov, Action.INSTALL, ADDRESS, plan.planned, None, journal)
    assert journal.install_phases == ["kexec", "disko", "install", "reboot"]
    assert str(resp.attributes["toplevel"]).endswith("-nixos-system-alpha-1")
    yield Installed(farm, host, workdir, prov, config, recorded(ADDRESS, resp))
    close(prov)


def test_install_pins_the_generated_host_key(installed: Installed) -> None:
    host, state = installed.host, installed.state
    pub = public_host_key(VarsStore(installed.workdir / "vars"), "alpha")
    assert pub is not None
    assert state.attributes["host_key"] == pub
    assert (host.directory / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2] == pub.split()
    assert host.os_release_id() == "nixos"
    assert host.current_system() == state.attributes["toplevel"]
    assert state.private == {"install_phase": "done"}
    assert known_hosts_text(installed.workdir) == f"{host.address} {pub} alpha\n"
    # the private key went to the host and nowhere into state
    assert not any("PRIVATE KEY" in str(v) for v in state.attributes.values())


def test_noop_then_update(installed: Installed) -> None:
    prov, state, host = installed.prov, installed.state, installed.host
    found = refresh(prov, state)
    assert found.warnings == ()
    assert found.found[ADDRESS].attributes["current_toplevel"] == state.attributes["toplevel"]
    again = plan_one(prov, ADDRESS, installed.config, state)
    assert again.planned["toplevel"] == state.attributes["toplevel"]  # nothing to do
    assert again.planned["host_key"] == state.attributes["host_key"]

    installed.write(TestSystem("2"))
    plan = plan_one(prov, ADDRESS, installed.config, state)
    old, new = state.attributes["toplevel"], plan.planned["toplevel"]
    assert new != old and str(new).endswith("-nixos-system-alpha-2")
    journal = Journal()
    resp = apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state, journal)
    assert resp.attributes["toplevel"] == new
    assert host.current_system() == new
    assert host.activations()[-2:] == [f"boot {new}", f"switch {new}"]
    assert journal.phases[:4] == ["build", "copy", "activate", "confirm"]
    installed.state = recorded(ADDRESS, resp)
    assert refresh(prov, installed.state).found[ADDRESS].attributes["current_toplevel"] == new
    # the confirmed deploy's watchdog lets its window pass, loses the race, cleans up: no late rollback
    wait_until(lambda: not any((host.directory / "run" / "reconciler").iterdir()))
    assert host.current_system() == new


def test_failed_activation_rolls_back(installed: Installed) -> None:
    prov, state, host = installed.prov, installed.state, installed.host
    before = host.current_system()
    installed.write(TestSystem("3", behaviour="fail"))
    plan = plan_one(prov, ADDRESS, installed.config, state)
    with pytest.raises(RolledBackError) as err:
        apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
    assert "activation failed" in err.value.message and "foo.service" in err.value.message
    assert err.value.previous == before
    assert host.current_system() == before
    assert (host.directory / "nix/var/nix/profiles/system").resolve() == Path(str(before))
    assert host.activations()[-1] == f"switch {before}"


def test_failed_health_check_rolls_back(installed: Installed) -> None:
    prov, state, host = installed.prov, installed.state, installed.host
    before = host.current_system()
    installed.write(TestSystem("4"))
    config = {**installed.config, "health_check": [{"command": "test -e /run/no-such-service", "timeout": 10}]}
    plan = plan_one(prov, ADDRESS, config, state)
    with pytest.raises(RolledBackError, match="health check"):
        apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
    assert host.current_system() == before
    # and a passing health check lets the same update through
    config = {**installed.config, "health_check": [{"command": "test -L /run/current-system", "timeout": 10}]}
    plan = plan_one(prov, ADDRESS, config, state)
    resp = apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
    assert host.current_system() == plan.planned["toplevel"] == resp.attributes["toplevel"]
    installed.state = recorded(ADDRESS, resp)


def test_deploy_that_cuts_ssh_off_is_rolled_back_by_the_target(installed: Installed) -> None:
    prov, state, host = installed.prov, installed.state, installed.host
    before = host.current_system()
    installed.write(TestSystem("5", behaviour="cut-ssh"))
    plan = plan_one(prov, ADDRESS, installed.config, state)
    with pytest.raises(RolledBackError, match="rolled itself back") as err:
        apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
    assert err.value.previous == before
    assert host.current_system() == before
    # the target switched to the new system, lost SSH, and switched back by itself
    assert f"switch {plan.planned['toplevel']}" in host.activations()
    assert host.activations()[-1] == f"switch {before}"
    assert refresh(prov, state).found[ADDRESS].attributes["current_toplevel"] == before  # and SSH works again


def test_update_without_rollback_reports_the_failure(installed: Installed) -> None:
    prov, state, host = installed.prov, installed.state, installed.host
    installed.write(TestSystem("6", behaviour="fail"))
    config = {**installed.config, "rollback": False}
    plan = plan_one(prov, ADDRESS, config, state)
    with pytest.raises(CommandError, match=r"foo\.service") as err:
        apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
    assert not isinstance(err.value, RolledBackError)
    assert host.current_system() == plan.planned["toplevel"]  # left as the failed switch left it
    # put it back for whoever comes next
    installed.write(TestSystem("2"))
    plan = plan_one(prov, ADDRESS, installed.config, state)
    resp = apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
    installed.state = recorded(ADDRESS, resp)
    assert host.current_system() == resp.attributes["toplevel"]


def test_update_with_nix_copy_over_its_own_ssh(installed: Installed) -> None:
    """copy_transport = "ssh-ng": `nix copy --to ssh-ng://` with OpenSSH held to the pinned key."""
    prov = provider(installed.workdir, copy_transport="ssh-ng")
    try:
        installed.write(TestSystem("7"))
        plan = plan_one(prov, ADDRESS, installed.config, installed.state)
        resp = apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, installed.state)
        assert installed.host.current_system() == plan.planned["toplevel"] == resp.attributes["toplevel"]
        installed.state = recorded(ADDRESS, resp)
    finally:
        close(prov)


def test_update_built_on_a_build_host(installed: Installed) -> None:
    (builder,) = installed.farm.create(1)
    prov = provider(installed.workdir)
    try:
        prov.ctx.known_hosts.pin("builder", builder.address, 22, builder.host_key)  # a host we pinned before
        installed.write(TestSystem("8"))
        config = {**installed.config, "build_host": f"root@{builder.address}"}
        plan = plan_one(prov, ADDRESS, config, installed.state)
        new = str(plan.planned["toplevel"])
        resp = apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, installed.state)
        assert installed.host.current_system() == new == resp.attributes["toplevel"]
        assert (builder.directory / new.lstrip("/")).exists()  # built there
        installed.state = recorded(ADDRESS, resp)
    finally:
        close(prov)
        installed.farm.destroy(builder)


def test_refresh_reuses_one_connection_per_host(installed: Installed) -> None:
    prov = provider(installed.workdir)

    async def twice() -> tuple[RefreshResponse, RefreshResponse]:
        request = RefreshRequest((installed.state,), ((ADDRESS, "nixos_machine"),))
        return await prov.refresh(request), await prov.refresh(request)

    try:
        first, second = asyncio.run(twice())
        assert prov.ctx.pool.opened == 1
        assert first.found == second.found
        assert first.found[ADDRESS].attributes["current_toplevel"] == installed.host.current_system()
    finally:
        close(prov)


def test_import_adopts_a_running_machine(installed: Installed, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # an import knows only the ID: the login is the user's own default key (~/.ssh/id_ed25519)
    (tmp_path / ".ssh").mkdir()
    shutil.copy(installed.farm.client_key, tmp_path / ".ssh" / "id_ed25519")
    monkeypatch.setenv("HOME", str(tmp_path))
    prov = provider(installed.workdir)
    try:
        observed = asyncio.run(prov.import_resource(ImportRequest(ADDRESS, "nixos_machine",
                                                                  f"root@{installed.host.address}")))
        assert observed.attributes["toplevel"] == installed.host.current_system()
        assert observed.attributes["host_key"] == installed.state.attributes["host_key"]
    finally:
        close(prov)


def test_drift_is_seen_and_an_update_repairs_it(installed: Installed) -> None:
    prov, state, host = installed.prov, installed.state, installed.host
    deployed = str(state.attributes["toplevel"])
    other = next(line.split()[1] for line in host.activations() if line.split()[1] != deployed)
    link = host.directory / "run" / "current-system"
    link.unlink()
    link.symlink_to(other)  # someone switched the machine by hand
    seen = dict(refresh(prov, state).found[ADDRESS].attributes)
    assert seen["toplevel"] == deployed and seen["current_toplevel"] == other
    plan = plan_one(prov, ADDRESS, installed.config, state)
    assert plan.planned["toplevel"] == deployed  # the flake did not change: the update puts it back
    resp = apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, recorded(ADDRESS, state_with(state, seen)))
    assert host.current_system() == deployed == resp.attributes["toplevel"]
    assert "current_toplevel" not in resp.attributes


def state_with(state: RecordedResource, attributes: dict[str, object]) -> ApplyResponse:
    return ApplyResponse(state.id, attributes, dict(state.private))
