"""Fixtures for the end-to-end tests: the real CLI (`python -m reconciler`) run as a subprocess against the
Hetzner and Compute Engine emulators, which run in the test process on 127.0.0.1 with fast emulated clocks.

`cli` runs commands in a fresh configuration directory and kills any apply a test started and left running;
`hcloud` and `gce` are emulators; `HoldingProxy` (in holding_proxy.py) sits in front of an emulator to hold
back one answer, so a test can kill the CLI after a create was made but before its answer reached the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from providers.google.emulator import Emulator as GceEmulator
from providers.google.emulator import start_emulator as start_gce
from providers.hcloud.emulator import Emulator as HcloudEmulator
from providers.hcloud.emulator import start_emulator as start_hcloud

ROOT = Path(__file__).resolve().parents[2]
HCLOUD_SCALE = 200.0  # emulated seconds per real second: a 10 s create takes 50 ms
HCLOUD_POLL = 0.5 / HCLOUD_SCALE  # the provider's waits scaled alike (0.5 s is the real first poll)
GCE_SCALE = 0.005  # real seconds per emulated second: a 12 s insert takes 60 ms
GCE_PROJECT = "e2e-fleet"
STATE = "reconciler.state.json"
ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@example"


@dataclass(frozen=True)
class Result:
    """A finished CLI run."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    def explain(self) -> str:
        return f"reconciler {' '.join(self.args)} -> {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Cli:
    """`python -m reconciler ... -C DIR --no-color` in one configuration directory."""

    directory: Path
    started: list[subprocess.Popen[str]] = field(default_factory=list)

    def _argv(self, args: tuple[str, ...]) -> list[str]:
        return [sys.executable, "-m", "reconciler", *args, "-C", str(self.directory), "--no-color"]

    @staticmethod
    def _env() -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HCLOUD_", "TF_VAR_", "GOOGLE_", "CLOUDSDK_"))}
        env["PYTHONPATH"] = str(ROOT)
        return env

    def run(self, *args: str, code: int | None = 0, timeout: float = 120.0) -> Result:
        proc = subprocess.run(self._argv(args), capture_output=True, text=True, cwd=self.directory, env=self._env(),
                              timeout=timeout)
        result = Result(args, proc.returncode, proc.stdout, proc.stderr)
        if code is not None:
            assert result.code == code, result.explain()
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start a command without waiting for it (its output goes to files beside the configuration)."""
        n = len(self.started)
        out = (self.directory.parent / f"run{n}.out").open("w")
        err = (self.directory.parent / f"run{n}.err").open("w")
        proc = subprocess.Popen(self._argv(args), stdout=out, stderr=err, text=True, cwd=self.directory,
                                env=self._env())
        out.close()
        err.close()
        self.started.append(proc)
        return proc

    def output_of(self, proc: subprocess.Popen[str]) -> str:
        n = self.started.index(proc)
        return (self.directory.parent / f"run{n}.out").read_text() + (
            self.directory.parent / f"run{n}.err").read_text()

    def kill_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)

    # ---------------------------------------------------------------- the configuration and the state
    def write(self, text: str, name: str = "main.tf") -> None:
        (self.directory / name).write_text(textwrap.dedent(text))

    @property
    def state_path(self) -> Path:
        return self.directory / STATE

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_path.read_text())
        return data

    def state_bytes(self) -> bytes:
        return self.state_path.read_bytes()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    directory = tmp_path / "fleet"
    directory.mkdir()
    runner = Cli(directory)
    try:
        yield runner
    finally:
        runner.kill_all()


@pytest.fixture
def hcloud() -> Iterator[HcloudEmulator]:
    with start_hcloud(time_scale=HCLOUD_SCALE, token="e2e-token") as emu:
        yield emu


@pytest.fixture
def gce() -> Iterator[GceEmulator]:
    with start_gce(time_scale=GCE_SCALE) as emu:
        yield emu


def hcloud_provider(endpoint: str) -> str:
    return textwrap.dedent(f"""\
        provider "hcloud" {{
          token         = "e2e-token"
          endpoint      = "{endpoint}"
          poll_interval = {HCLOUD_POLL}
        }}
        """)


def google_provider(endpoint: str, zone: str = "europe-west4-a") -> str:
    return textwrap.dedent(f"""\
        provider "google" {{
          project  = "{GCE_PROJECT}"
          zone     = "{zone}"
          endpoint = "{endpoint}"
        }}
        """)


def wait_until(condition: Any, timeout: float = 60.0, interval: float = 0.005, what: str = "condition") -> None:
    """Poll `condition()` until it is true (a failure, not a measurement, when it never is)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


# -------------------------------------------------------------------------------- Hetzner invariants
def owned_servers(emu: HcloudEmulator, lineage: str) -> list[dict[str, Any]]:
    return [s for s in emu.servers() if s["labels"].get("reconciler-lineage") == lineage]


def hcloud_problems(emu: HcloudEmulator, state: dict[str, Any]) -> list[str]:
    """Every way the emulator's servers and the state disagree: duplicates (two servers of one name),
    orphans (a server with our lineage label that state does not record), ghosts (a recorded id the
    emulator does not have), and entries without an id."""
    problems: list[str] = []
    servers = emu.servers()
    seen: dict[str, int] = {}
    for s in servers:
        seen[s["name"]] = seen.get(s["name"], 0) + 1
    problems += [f"duplicate: {n} servers named {name}" for name, n in sorted(seen.items()) if n > 1]
    ours = {str(s["id"]): s for s in servers if s["labels"].get("reconciler-lineage") == state["lineage"]}
    recorded = {str(r["id"]): a for a, r in state["resources"].items()
                if r["type"] == "hcloud_server" and r.get("id") is not None}
    problems += [f"orphan: server {ours[i]['name']} (id {i}, {ours[i]['status']}) is not in state"
                 for i in sorted(set(ours) - set(recorded))]
    problems += [f"ghost: {recorded[i]} records id {i}, which the emulator does not have (or not as ours)"
                 for i in sorted(set(recorded) - set(ours))]
    problems += [f"unrecorded: {a} has no id" for a, r in sorted(state["resources"].items())
                 if r["type"].startswith("hcloud_") and r.get("id") is None]
    return problems


def pending_steps(state: dict[str, Any]) -> dict[str, str]:
    """Address -> action of every step state marks as started and not finished."""
    return {a: str(r["pending"].get("action")) for a, r in sorted(state["resources"].items()) if r.get("pending")}
