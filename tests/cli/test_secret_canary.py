# ruff: noqa: E501
"""Canary scans: a secret a generator makes (or the machine's decrypted host key) must not show up in any
output, error line, state, plan or file outside the age-encrypted vars store - not when a generator fails,
and not after the reconciler is killed with -9 mid-generate or mid-install (the plaintext it had on disk
lives only in `.reconciler/tmp`, which the next run wipes)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reconciler.vars.private_tmp import TMP

ROOT = Path(__file__).resolve().parents[2]
MACHINE = """
resource "nixos_machine" "m1" {
  target_host = "127.0.0.1:9"
  flake       = ".#m1"
}
"""


def _env(tmp_path: Path) -> dict[str, str]:
    scratch = tmp_path / "tmpdir"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(ROOT), "RECONCILER_AGE_IDENTITY": str(tmp_path / "identity.txt"),
            "TMPDIR": str(scratch)}


def run(directory: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(directory), "--no-color"],
                          capture_output=True, text=True, timeout=120, env=env)


def scan(canary: bytes, *places: Path, skip: Path | None = None) -> list[str]:
    """Every file under `places` whose bytes contain the canary (`skip`: a folder left out)."""
    found = []
    for place in places:
        for path in [place] if place.is_file() else place.rglob("*"):
            if skip is not None and skip in path.parents:
                continue
            if path.is_file() and not path.is_symlink() and canary in path.read_bytes():
                found.append(str(path))
    return found


def outside_store(directory: Path) -> list[Path]:
    """What a scan covers in the configuration directory: all but the encrypted vars store."""
    return [p for p in directory.iterdir() if p.name != "vars"]


def test_failing_generator_never_shows_its_secret(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir()
    (d / "main.tf").write_text(MACHINE + textwrap.dedent("""
        vars "boom" {
          file "token" {
            secret = true
          }
          script = "head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\\\n' > $out/token; echo \\"made $(cat $out/token)\\" >&2; exit 3"
        }
        """))
    env = _env(tmp_path)
    for args in (("vars", "generate"), ("vars", "generate", "--debug")):
        proc = run(d, env, *args)
        assert proc.returncode == 1
        assert "the script failed (exit 3): made <redacted>" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr or "--debug" in args
        tokens = re.findall(r"[0-9a-f]{48}", proc.stdout + proc.stderr)
        assert tokens == [], tokens  # the 48 hex digits never appear, not even with --debug
    assert not list(Path(env["TMPDIR"]).iterdir())  # nothing went to $TMPDIR


def test_kill_mid_generate_leaves_no_plaintext(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir()
    canary = b"canary-" + os.urandom(12).hex().encode()  # main.tf holds it in two halves, the secret whole
    (d / "main.tf").write_text(MACHINE + textwrap.dedent(f"""
        vars "slow" {{
          file "token" {{
            secret = true
          }}
          script = "printf '%s%s\\n' {canary[:10].decode()} {canary[10:].decode()} > $out/token; touch $out/ready; sleep 60"
        }}
        """))
    env = _env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "vars", "generate", "-C", str(d), "--no-color"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not list((d / TMP).rglob("ready")):
            assert time.monotonic() < deadline and proc.poll() is None, "the generator never started"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the reconciler and its generator, as a crash or OOM kill would
        proc.wait()
    # the plaintext is only in the private, 0700 folder, not in $TMPDIR
    assert scan(canary, Path(env["TMPDIR"])) == []
    assert scan(canary, *outside_store(d), skip=d / TMP) == []
    assert (d / TMP).stat().st_mode & 0o777 == 0o700
    assert scan(canary, d / TMP)  # (it was there: the test saw the generator run)
    # the next run, of any command, wipes it first
    run(d, env, "vars", "list")
    assert scan(canary, *outside_store(d)) == []


INSTALLER = """#!/bin/sh
# a stand-in installer that copies what it was handed, then hangs in its first phase
while [ $# -gt 0 ]; do
  case "$1" in --extra-files) cp -r "$2" "$(dirname "$0")/seen"; touch "$(dirname "$0")/started" ;; esac
  shift
done
sleep 60
"""

DRIVER = """
import asyncio, sys
from pathlib import Path
from reconciler.nixos.context import Context, Settings
from reconciler.nixos.install import install
from reconciler.nixos.machine import parse_spec

class Journal:
    def intend(self, **data): pass
    def record(self, id, attributes, private=None): pass
    def phase(self, name): pass

workdir = Path(sys.argv[1])
ctx = Context.create(Settings(nixos_anywhere=sys.argv[2], connect_timeout=2.0), workdir)
spec = parse_spec("nixos_machine.m1", {"target_host": "127.0.0.1:9", "flake": ".#m1"}, workdir)
asyncio.run(install(ctx, spec, {}, None, Journal()))
"""


def test_kill_mid_install_leaves_no_decrypted_host_key(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir()
    (d / "main.tf").write_text(MACHINE)
    env = _env(tmp_path)
    tools = tmp_path / "tools"
    tools.mkdir()
    installer = tools / "nixos-anywhere"
    installer.write_text(INSTALLER)
    installer.chmod(0o755)
    assert run(d, env, "vars", "generate").returncode == 0
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(d), str(installer)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (tools / "started").exists():
            if proc.poll() is not None:
                pytest.fail(f"the install stopped early: {proc.stderr.read().decode() if proc.stderr else ''}")
            assert time.monotonic() < deadline, "the installer never started"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    key = next((tools / "seen").rglob("ssh_host_ed25519_key")).read_bytes()
    canary = key.strip().splitlines()[1]  # a line of the private key's base64 body
    assert scan(canary, Path(env["TMPDIR"])) == []
    assert scan(canary, *outside_store(d), skip=d / TMP) == []
    assert scan(canary, d / TMP)  # the decrypted key was handed over from the private folder
    run(d, env, "vars", "list")
    assert scan(canary, *outside_store(d)) == []
    assert scan(canary, d / "vars") == []  # at rest it is only age-encrypted


def test_a_live_runs_private_folder_is_kept_and_a_dead_ones_wiped(tmp_path: Path) -> None:
    from reconciler.vars.private_tmp import run_dir, wipe_stale

    d = tmp_path / "c"
    d.mkdir()
    mine = run_dir(d)  # this process holds its owner lock
    dead = d / TMP / "run-1-dead"
    dead.mkdir()
    (dead / ".owner").touch()  # an owner file nobody holds a lock on: its run is gone
    wiper = f"from pathlib import Path; from reconciler.vars.private_tmp import wipe_stale; " \
            f"print(wipe_stale(Path({str(d)!r})))"
    out = subprocess.run([sys.executable, "-c", wiper], capture_output=True, text=True, env=_env(tmp_path),
                         timeout=60)
    assert out.stdout.strip() == "1", out.stderr
    assert mine.is_dir() and not dead.exists()
    assert (d / TMP).stat().st_mode & 0o777 == 0o700 and mine.stat().st_mode & 0o777 == 0o700
    assert wipe_stale(d) == 0
