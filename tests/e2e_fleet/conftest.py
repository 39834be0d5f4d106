"""Fixtures for the whole-fleet tests: the session's host farm (tests/hosts; skips with the reason when this
machine cannot make test hosts) and `fleet`, one configuration directory per module whose three servers the
Hetzner emulator places on three fresh test hosts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.hcloud.emulator import start_emulator
from tests.e2e_fleet.fleet import HCLOUD_SCALE, HCLOUD_TOKEN, FleetDir
from tests.hosts.farm import HostFarm
from tests.hosts.fixtures import farm, offline_nix

__all__ = ["farm", "fleet", "offline_nix"]


@pytest.fixture(scope="module")
def fleet(farm: HostFarm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetDir]:
    hosts = farm.create(3, systemd=True)
    base = tmp_path_factory.mktemp("fleet")
    directory = base / "fleet"
    directory.mkdir()
    made = list(hosts)
    try:
        with start_emulator(time_scale=HCLOUD_SCALE, token=HCLOUD_TOKEN,
                            server_ips=[h.address for h in hosts]) as emu:
            fd = FleetDir(directory, farm, emu, hosts, base / "age-identity.txt")
            yield fd
            made += [h for h in fd.hosts if h not in made]
    finally:
        for host in made:
            if host in farm.hosts:
                farm.destroy(host)
