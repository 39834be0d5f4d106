# ruff: noqa: E501
"""vars through the CLI: scripts with $out/$in, builtins, shared values, secrets encrypted at rest and never
in plan output or state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
resource "nixos_machine" "alpha" {
  target_host = "192.0.2.10"
  flake       = ".#alpha"
  tags        = ["all", "zt"]
}
resource "nixos_machine" "beta" {
  target_host = "192.0.2.11"
  flake       = ".#beta"
  tags        = ["all"]
}
vars "zerotier" {
  tags = ["zt"]
  file "network_id" {
    secret = false
  }
  file "identity" {
    secret = true
  }
  script = "echo net-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \\n') > $out/network_id; echo very-secret-identity > $out/identity"
}
vars "derived" {
  machines     = ["alpha"]
  dependencies = ["zerotier"]
  file "copy" {
    secret = false
  }
  script = "cat $in/zerotier/network_id > $out/copy"
}
vars "root_password" {
  builtin = "password"
}
vars "cluster_token" {
  share   = true
  builtin = "random_hex"
  file "token" {
    secret = false
  }
}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RECONCILER_AGE_IDENTITY": str(tmp_path / "identity.txt")}


def run(cfg: Path, env: dict[str, str], *args: str, stdin: str | None = None,
        code: int = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(cfg), "--no-color"], env=env,
                          capture_output=True, text=True, input=stdin, timeout=120)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    return proc


def test_generate_get_set_and_secrecy(tmp_path: Path, env: dict[str, str]) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.tf").write_text(CONFIG)
    out = run(cfg, env, "vars", "generate").stdout
    assert "generated zerotier for alpha" in out and "generated zerotier for beta" not in out
    assert "generated ssh_host_key for beta" in out
    root = cfg / "vars" / "per-machine"
    net = (root / "alpha" / "zerotier" / "network_id" / "value").read_text().strip()
    assert net.startswith("net-")
    assert (root / "alpha" / "derived" / "copy" / "value").read_text().strip() == net
    secret_file = root / "alpha" / "zerotier" / "identity" / "secret"
    assert b"very-secret-identity" not in secret_file.read_bytes()
    assert secret_file.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert run(cfg, env, "vars", "get", "alpha", "zerotier/identity").stdout.strip() == "very-secret-identity"
    # shared: one value for every machine it applies to
    tokens = {(root / m / "cluster_token" / "token" / "value").read_text() for m in ("alpha", "beta")}
    assert len(tokens) == 1
    listing = run(cfg, env, "vars", "list", "alpha").stdout
    assert "zerotier/identity  (secret)" in listing and "very-secret-identity" not in listing
    # a second generate makes nothing new; --regenerate makes new values
    assert "already generated" in run(cfg, env, "vars", "generate").stdout
    run(cfg, env, "vars", "generate", "alpha", "--regenerate")
    regenerated = (root / "alpha" / "zerotier" / "network_id" / "value").read_text().strip()
    assert regenerated.startswith("net-") and regenerated != net
    assert run(cfg, env, "vars", "get", "alpha", "ssh_host_key/ssh_host_ed25519_key.pub").stdout.startswith(
        "ssh-ed25519 ")
    run(cfg, env, "vars", "set", "beta", "root_password/password", stdin="hunter2-from-stdin")
    assert run(cfg, env, "vars", "get", "beta", "root_password/password").stdout == "hunter2-from-stdin"
    run(cfg, env, "vars", "set", "beta", "nope/file", stdin="x", code=1)
    plan = run(cfg, env, "plan", "--no-refresh", "--json").stdout
    assert "very-secret-identity" not in plan and "hunter2" not in plan


def test_failing_script_is_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "main.tf").write_text(CONFIG.replace("echo very-secret-identity > $out/identity",
                                                "echo broken >&2; exit 3"))
    proc = run(cfg, env, "vars", "generate", "alpha", code=1)
    assert 'vars "zerotier" for alpha: the script failed (exit 3): broken' in proc.stderr
    assert "Traceback" not in proc.stderr
