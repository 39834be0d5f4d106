"""Issue 12 item 2: a plan of 10,000 machines with a deployed system runs its one `nix eval` with a request
of about a megabyte, which goes in on nix's standard input (the environment or the argument list would hit
the kernel's E2BIG). The real CLI plans them all as updates to the systems the flake builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosts.farm import NIX_CONF

ROOT = Path(__file__).resolve().parents[2]
N = 10_000
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
FLAKE = """{
  outputs = { self }: {
    nixosConfigurations = builtins.mapAttrs (name: v: {
      config.system.build.toplevel = builtins.derivation {
        name = "nixos-system-${name}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ];
      };
    }) (builtins.fromJSON (builtins.readFile ./machines.json));
  };
}
"""


@pytest.mark.skipif(shutil.which("nix") is None, reason="needs nix on the PATH")
def test_plan_of_10000_deployed_machines_evaluates_them_in_one_request(tmp_path: Path) -> None:
    names = [f"m{i:05d}" for i in range(N)]
    (tmp_path / "flake.nix").write_text(FLAKE)
    (tmp_path / "machines.json").write_text(json.dumps(dict.fromkeys(names, 1)))
    machines = {n: {"target_host": f"10.9.{i // 250}.{i % 250 + 1}", "flake": f".#{n}",
                    "install": [{"enabled": False}]} for i, n in enumerate(names)}
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"nixos_machine": machines}}))
    old = "/nix/store/00000000000000000000000000000000-nixos-system-old"
    resources = {f"nixos_machine.{n}": {"type": "nixos_machine", "id": n,
                                        "attributes": {**machines[n], "toplevel": old,
                                                       "host_key": KEY},
                                        "private": {"install_phase": "done"}} for n in names}
    (tmp_path / "reconciler.state.json").write_text(json.dumps(
        {"version": 1, "serial": 1, "lineage": "00000000-0000-4000-8000-000000010000", "resources": resources}))
    env = {**os.environ, "NIX_CONFIG": NIX_CONF, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--no-refresh", "--no-color",
                           "--detailed-exitcode", "-C", str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "0 to install, 10000 to update." in proc.stdout, proc.stdout[-2000:]
    assert proc.stdout.count("nixos-system-m") >= N  # every machine's new system is known, none "after apply"
    assert "known after apply" not in proc.stdout
