"""Test hosts are the sandbox's hosts (reconciler/sandbox/hosts.py); this module names them for the tests and
points at the installer script in bin/."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.sandbox.hosts import NIX_CONF, Host, HostFarm, host_farm
from reconciler.sandbox.netns import missing_requirements

TestHost = Host
STAND_IN = Path(__file__).resolve().parent / "bin" / "nixos-anywhere"


def offline_nix_env() -> dict[str, str]:
    """Environment for local nix calls in tests: flakes on, and never a byte to a binary cache."""
    env = dict(os.environ)
    env["NIX_CONFIG"] = NIX_CONF
    return env


__all__ = ["NIX_CONF", "STAND_IN", "HostFarm", "TestHost", "host_farm", "missing_requirements", "offline_nix_env"]
