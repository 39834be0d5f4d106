"""On a test host that looks like it runs systemd: the switch, the rollback and the watchdog go through
`systemd-run` (a stand-in that accepts only the options we use), so a dropped SSH link cannot kill them."""

from __future__ import annotations

import pytest

from reconciler.actions import Action
from reconciler.nixos.errors import RolledBackError
from tests.hosts.farm import HostFarm
from tests.hosts.flakes import TestSystem, write_flake
from tests.nixos.helpers import apply, close, machine_config, plan_one, provider, recorded

pytestmark = pytest.mark.hosts

ADDRESS = "nixos_machine.epsilon"


def test_switch_rollback_and_watchdog_run_as_systemd_units(farm: HostFarm, tmp_path) -> None:
    (host,) = farm.create(1, systemd=True)
    write_flake(tmp_path, {"epsilon": TestSystem("1")})
    prov = provider(tmp_path)
    config = machine_config(farm, host, ".#epsilon")
    try:
        state = recorded(ADDRESS, apply(prov, Action.INSTALL, ADDRESS, plan_one(prov, ADDRESS, config, None).planned,
                                        None))
        first = host.current_system()

        write_flake(tmp_path, {"epsilon": TestSystem("2")})
        plan = plan_one(prov, ADDRESS, config, state)
        state = recorded(ADDRESS, apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state))
        second = host.current_system()
        assert second == plan.planned["toplevel"] != first
        units = [u.split()[:2] for u in host.systemd_units()]
        assert [u[1] for u in units] == ["wait=0", "wait=1"]
        assert units[0][0].startswith("reconciler-watchdog-deploy-")
        assert units[1][0].startswith("reconciler-switch-deploy-")

        write_flake(tmp_path, {"epsilon": TestSystem("3", behaviour="fail")})
        plan = plan_one(prov, ADDRESS, config, state)
        with pytest.raises(RolledBackError):
            apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
        assert host.current_system() == second
        assert host.systemd_units()[-1].split()[0].startswith("reconciler-rollback-")

        write_flake(tmp_path, {"epsilon": TestSystem("4", behaviour="cut-ssh")})
        plan = plan_one(prov, ADDRESS, config, state)
        with pytest.raises(RolledBackError, match="rolled itself back"):
            apply(prov, Action.NIXOS_UPDATE, ADDRESS, plan.planned, state)
        assert host.current_system() == second
    finally:
        close(prov)
