"""The quickstart's main job (examples/quickstart/run.sh) passes end to end on the sandbox: fleet applied with
NixOS on each machine, GPU node on/off/on with the same host key and vars, one machine updated, sandbox down.
The script checks each step itself and exits non-zero at the first one that did not do what it should; here
it runs on a copy of the example in a git repository of its own, with this checkout's reconciler."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosts.fixtures import need_hosts

pytestmark = [pytest.mark.hosts, pytest.mark.slow, pytest.mark.timeout(1800)]
ROOT = Path(__file__).resolve().parents[2]


def test_run_sh_does_the_main_job(tmp_path: Path) -> None:
    need_hosts()
    repo = tmp_path / "clone"
    shutil.copytree(ROOT / "examples" / "quickstart", repo / "examples" / "quickstart",
                    ignore=shutil.ignore_patterns(".reconciler", "vars", "reconciler.state.json*",
                                                  "sandbox_override.tf"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "quickstart"]):
        subprocess.run([*git, *argv], check=True, capture_output=True)
    env = {**os.environ, "RECONCILER": f"{sys.executable} -m reconciler",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run(["bash", str(repo / "examples" / "quickstart" / "run.sh")], env=env,
                          capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, (proc.stdout[-6000:], proc.stderr[-3000:])
    assert "The main job ran" in proc.stdout
    assert '^ resource "nixos_machine" "electrum"' in proc.stdout  # the one machine whose flake changed
    assert "one more apply" not in proc.stdout  # every machine was built with its members' addresses
