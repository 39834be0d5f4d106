"""Damaged state documents, a read-only state folder and a full disk, through the CLI: each is one line
naming the file and what is wrong, exit 1, no traceback, and the state file is left as it was."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATE = "reconciler.state.json"
CONFIG = """
provider "hcloud" {
  token    = "t"
  endpoint = "http://127.0.0.1:9/v1"
}
resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}
"""
GOOD = {"version": 1, "serial": 3, "lineage": "7c1f0e55-8c7e-4a8e-9b0e-2f4a0c0f7a11", "resources": {
    "hcloud_server.web": {"type": "hcloud_server", "id": "42", "attributes": {"name": "web"}}}, "outputs": {}}


def run(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(directory), "--no-color"],
                          capture_output=True, text=True, timeout=120, env=env)


def one_clean_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _deep(n: int) -> str:
    return '{"version": 1, "serial": 1, "lineage": "x", "resources": {"a.b": {"type": "a", "attributes": {"x": ' \
        + "[" * n + "]" * n + "}}}}"


BAD_STATES: dict[str, bytes] = {
    "not UTF-8": b'{"version": 1, "serial": 1, "lineage": "\xff\xfe"}',
    "version is a string": json.dumps({**GOOD, "version": "1"}).encode(),
    "serial is a word": json.dumps({**GOOD, "serial": "three"}).encode(),
    "serial is null": json.dumps({**GOOD, "serial": None}).encode(),
    "serial is negative": json.dumps({**GOOD, "serial": -1}).encode(),
    "resources is a list": json.dumps({**GOOD, "resources": []}).encode(),
    "outputs is a string": json.dumps({**GOOD, "outputs": "x" * 100_000}).encode(),
    "a resource without type": json.dumps({**GOOD, "resources": {"a.b": {"id": "1"}}}).encode(),
    "an id that is a number": json.dumps({**GOOD, "resources": {"a.b": {"type": "a", "id": 5}}}).encode(),
    "nested 100k deep": _deep(100_000).encode(),
    "nested 200 deep": _deep(200).encode(),
    "not JSON": b"{\"version\": 1,",
    "a list": b"[]",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    d = tmp_path / "c"
    d.mkdir()
    (d / "main.tf").write_text(CONFIG)
    return d


@pytest.mark.parametrize("case", sorted(BAD_STATES))
def test_bad_state_is_one_line_and_nothing_is_written(config: Path, case: str) -> None:
    (config / STATE).write_bytes(BAD_STATES[case])
    commands: list[tuple[str, ...]] = [("plan", "--no-refresh")]
    if case in ("not UTF-8", "serial is null", "nested 100k deep"):
        commands += [("show",), ("state", "rm", "hcloud_server.web")]
    for args in commands:
        line = one_clean_line(run(config, *args), STATE)
        assert len(line) < 300, line
    assert (config / STATE).read_bytes() == BAD_STATES[case]
    assert sorted(p.name for p in config.iterdir()) == ["main.tf", STATE] or \
        sorted(p.name for p in config.iterdir()) == ["main.tf", STATE, STATE + ".lock"]


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_folder_plans_without_lock_and_apply_says_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m") as d:
        (d / "main.tf").write_text(CONFIG)
        (d / STATE).write_text(json.dumps(GOOD))
        subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True)
        plan = run(d, "plan", "--no-refresh")
        assert plan.returncode == 0, plan.stderr
        assert "# hcloud_server.web must be replaced" in plan.stdout  # planned from the recorded state (no lock)
        one_clean_line(run(d, "apply", "--auto-approve"), "cannot lock state", "Read-only file system",
                       "plan --no-refresh")
        one_clean_line(run(d, "state", "rm", "hcloud_server.web"), "Read-only file system")
        assert json.loads((d / STATE).read_text()) == GOOD


def test_full_disk_keeps_the_last_good_state(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "256k") as d:
        (d / "main.tf").write_text(CONFIG)
        (d / STATE).write_text(json.dumps(GOOD))
        (d / (STATE + ".lock")).write_text("{}")  # its page is taken now, so locking needs no new space
        st = os.statvfs(d)
        with contextlib.suppress(OSError), (d / "filler").open("wb") as fh:
            fh.write(b"\0" * (st.f_bavail * st.f_frsize))
        line = one_clean_line(run(d, "state", "rm", "hcloud_server.web"), STATE, "No space left on device")
        assert "last good state (serial 3) is unchanged" in line
        assert json.loads((d / STATE).read_text()) == GOOD
        assert [p.name for p in d.iterdir() if p.name.endswith(".tmp")] == []
