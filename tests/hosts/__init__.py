"""Test hosts for the NixOS parts: network-namespace hosts with their own sshd and /nix (farm.py), test flakes
whose systems are tiny derivations (flakes.py), the stand-in nixos-anywhere (bin/nixos-anywhere) and the
pytest fixtures (fixtures.py). Usable from bench/ scripts through `host_farm()`."""

from tests.hosts.farm import STAND_IN, HostFarm, TestHost, host_farm, missing_requirements, offline_nix_env
from tests.hosts.flakes import TestSystem, write_flake

__all__ = ["STAND_IN", "HostFarm", "TestHost", "TestSystem", "host_farm", "missing_requirements",
           "offline_nix_env", "write_flake"]
