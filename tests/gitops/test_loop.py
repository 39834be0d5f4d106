"""The GitOps loop of examples/ci played for real: a git repository with a fleet, "runners" that are fresh
clones running the step scripts as CI would, the sandbox clouds, and state in a real PostgreSQL.

A pull request turning the GPU node on gets a plan comment and a saved plan; a second pull request merged
first makes that plan stale, so its apply is refused by reconciler and the apply step plans again, applies
and says so; two runners applying at once give one apply and one clear lock message; a change made out of
band is reported by the drift step with exit code 2.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from tests.pg import postgres, unavailable_reason

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
SPEED = "20"  # emulated seconds per real second: a Hetzner create (10 s) takes half a second

FLEET = """
terraform {
  backend "pg" {}
}

variable "gpu" {
  type    = bool
  default = false
}

provider "hcloud" {}

provider "google" {
  project = "gitops"
}

resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
  labels      = { fleet = "gitops" }
}

resource "google_compute_instance" "gpu" {
  enabled      = var.gpu
  name         = "scheelite"
  machine_type = "n1-standard-8"
  zone         = "europe-west4-a"

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  guest_accelerator {
    type  = "nvidia-tesla-t4"
    count = 1
  }

  scheduling {
    on_host_maintenance = "TERMINATE"
  }
}
"""

SECOND_SERVER = """
resource "hcloud_server" "api" {
  name        = "api"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}
"""


def hcloud_endpoint(override: str) -> str:
    block = override[override.index('provider "hcloud"'):]
    found = re.search(r'endpoint\s*=\s*"([^"]+)"', block)
    assert found is not None, override
    return found.group(1)


def wait_for_lock(conn_str: str, holder: subprocess.Popen[str]) -> None:
    """Until the first runner holds the workspace's lock (its row in the pg backend's locks table)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and holder.poll() is None:
        with psycopg.connect(conn_str, autocommit=True) as conn:
            try:
                if conn.execute("SELECT count(*) FROM reconciler.locks").fetchone() == (1,):
                    return
            except psycopg.errors.UndefinedTable:
                pass
        time.sleep(0.05)
    raise AssertionError("the first runner never took the state lock")


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@dataclass(frozen=True)
class Step:
    code: int
    stdout: str
    stderr: str


@dataclass
class Loop:
    """The origin repository, a clone to author changes in, and what every runner needs to reach the
    sandbox clouds and the PostgreSQL state."""

    base: Path
    origin: Path
    dev: Path
    override: str  # the sandbox's endpoints (a CI runner gets them from its own configuration)
    env: dict[str, str]

    def commit(self, branch: str, files: dict[str, str], message: str, start: str = "main") -> None:
        git(self.dev, "checkout", "-q", "-B", branch, f"origin/{start}")
        for name, text in files.items():
            (self.dev / name).write_text(text)
        git(self.dev, "add", "-A")
        git(self.dev, "commit", "-q", "-m", message)
        git(self.dev, "push", "-q", "-f", "origin", branch)
        git(self.dev, "fetch", "-q", "origin")

    def merge(self, branch: str) -> None:
        git(self.dev, "checkout", "-q", "-B", "main", "origin/main")
        git(self.dev, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
        git(self.dev, "push", "-q", "origin", "main")
        git(self.dev, "fetch", "-q", "origin")

    def runner(self, name: str, ref: str) -> Path:
        """A fresh checkout of `ref`, as a CI job gets."""
        work = self.base / "runners" / name
        shutil.rmtree(work, ignore_errors=True)
        git(self.base, "clone", "-q", str(self.origin), str(work))
        git(work, "checkout", "-q", ref)
        # the endpoints as a runner's own override file (a sandbox_override.tf is its sandbox's, checked
        # to be running in that folder)
        (work / "ci_override.tf").write_text(self.override)
        return work

    def step(self, script: str, work: Path, out: Path, **extra: str) -> Step:
        proc = self.start(script, work, out, **extra)
        stdout, stderr = proc.communicate(timeout=300)
        return Step(proc.returncode, stdout, stderr)

    def start(self, script: str, work: Path, out: Path, **extra: str) -> subprocess.Popen[str]:
        env = {**self.env, "CONFIG_DIR": str(work), "OUT_DIR": str(out), **extra}
        return subprocess.Popen(["bash", str(CI / f"{script}.sh")], cwd=work, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def reconciler(self, work: Path, *args: str) -> Step:
        proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(work), "--no-color"],
                              cwd=work, env=self.env, capture_output=True, text=True, timeout=300)
        return Step(proc.returncode, proc.stdout, proc.stderr)

    def addresses(self, work: Path) -> set[str]:
        listed = self.reconciler(work, "state", "list")
        assert listed.code == 0, listed.stderr
        return set(listed.stdout.split())


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HCLOUD_", "TF_VAR_", "GOOGLE_", "PG_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["RECONCILER"] = f"{sys.executable} -m reconciler"
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    (sandbox / "main.tf").write_text('provider "hcloud" {}\nprovider "google" {\n  project = "gitops"\n}\n')
    up = subprocess.run([sys.executable, "-m", "reconciler", "sandbox", "up", "--speed", SPEED, "-C", str(sandbox),
                         "--no-color"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        override = (sandbox / "sandbox_override.tf").read_text()  # the endpoints, as a runner would get them
        with postgres() as conn_str:
            env["PG_CONN_STR"] = conn_str
            origin = tmp_path / "origin.git"
            git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
            dev = tmp_path / "dev"
            git(tmp_path, "clone", "-q", str(origin), str(dev))
            git(dev, "checkout", "-q", "-b", "main")
            (dev / ".gitignore").write_text(".reconciler/\n*_override.tf\nreconciler-out/\n")
            (dev / "main.tf").write_text(FLEET)
            (dev / "terraform.tfvars").write_text("gpu = false\n")
            git(dev, "add", "-A")
            git(dev, "commit", "-q", "-m", "the fleet")
            git(dev, "push", "-q", "origin", "main")
            git(dev, "fetch", "-q", "origin")
            yield Loop(tmp_path, origin, dev, override, env)
    finally:
        subprocess.run([sys.executable, "-m", "reconciler", "sandbox", "down", "-C", str(sandbox), "--no-color"],
                       env=env, capture_output=True, timeout=120)


def test_pull_requests_merges_runners_and_drift(loop: Loop) -> None:
    # The first merge: plan on main (changes: exit 2), then apply exactly that plan.
    main = loop.runner("bootstrap", "origin/main")
    out0 = loop.base / "out-bootstrap"
    planned = loop.step("plan", main, out0)
    assert planned.code == 2, planned.stderr
    applied = loop.step("apply", main, out0)
    assert applied.code == 0, applied.stderr
    assert not (out0 / "stale.md").exists()
    assert loop.addresses(main) >= {"hcloud_server.web"}

    # PR A turns the GPU node on: the comment, the saved plan and the policy JSON.
    loop.commit("gpu-on", {"terraform.tfvars": "gpu = true\n"}, "GPU node on")
    out_a = loop.base / "out-a"
    pr_a = loop.step("plan", loop.runner("pr-a", "origin/gpu-on"), out_a)
    assert pr_a.code == 2, pr_a.stderr
    comment = (out_a / "comment.md").read_text()
    assert comment.startswith("<!-- reconciler-plan -->")
    assert "google_compute_instance.gpu" in comment and "```mermaid" in comment
    plan_json = json.loads((out_a / "plan.json").read_text())
    assert [c["change"]["actions"] for c in plan_json["resource_changes"]
            if c["address"] == "google_compute_instance.gpu"] == [["create"]]
    assert (out_a / "plan.bin").exists()

    # PR B adds a server and is merged first; its reviewed plan applies as it is.
    loop.commit("api", {"api.tf": SECOND_SERVER}, "an api server")
    out_b = loop.base / "out-b"
    assert loop.step("plan", loop.runner("pr-b", "origin/api"), out_b).code == 2
    loop.merge("api")
    merged_b = loop.step("apply", loop.runner("merge-b", "origin/main"), out_b)
    assert merged_b.code == 0, merged_b.stderr
    assert not (out_b / "stale.md").exists()

    # PR A merged next: its reviewed plan is stale. reconciler itself refuses to apply it ...
    loop.merge("gpu-on")
    merge_a = loop.runner("merge-a", "origin/main")
    refused = loop.reconciler(merge_a, "apply", str(out_a / "plan.bin"))
    assert refused.code == 1 and "saved plan is stale" in refused.stderr, refused.stderr
    # ... and the apply step says so, plans again from the merged configuration and applies that.
    replanned = loop.step("apply", merge_a, out_a)
    assert replanned.code == 0, replanned.stderr
    assert "the reviewed plan is stale" in replanned.stderr
    stale = (out_a / "stale.md").read_text()
    assert "The reviewed plan was stale" in stale and "google_compute_instance.gpu" in stale
    assert loop.addresses(merge_a) >= {"hcloud_server.web", "hcloud_server.api", "google_compute_instance.gpu"}

    # Two runners apply the same reviewed plan at once: one applies, the other is told the state is locked.
    loop.commit("db", {"db.tf": SECOND_SERVER.replace('"api"', '"db"')}, "a db server")
    out_c = loop.base / "out-c"
    assert loop.step("plan", loop.runner("pr-c", "origin/db"), out_c).code == 2
    loop.merge("db")
    out_c2 = loop.base / "out-c2"
    shutil.copytree(out_c, out_c2)
    requests.post(hcloud_endpoint(loop.override).removesuffix("/v1") + "/_emulator/knobs",
                  json={"durations": {"create_server": 200.0}}, timeout=10).raise_for_status()  # 10 s real
    runner_1, runner_2 = loop.runner("merge-c1", "origin/main"), loop.runner("merge-c2", "origin/main")
    first = loop.start("apply", runner_1, out_c)
    wait_for_lock(loop.env["PG_CONN_STR"], first)
    second = loop.start("apply", runner_2, out_c2)
    results = [(p.wait(timeout=300), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
               for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, _, err in results if code == 1)
    assert "locked" in loser, loser
    assert "Traceback" not in loser
    assert "hcloud_server.db" in loop.addresses(merge_a)

    # Drift: the api server is deleted out of band; the scheduled step reports it with exit code 2.
    state = json.loads(loop.reconciler(merge_a, "state", "pull").stdout)
    api_id = state["resources"]["hcloud_server.api"]["id"]
    endpoint = hcloud_endpoint(loop.override)
    from hcloud import Client

    Client(token="sandbox", api_endpoint=endpoint).servers.get_by_id(int(api_id)).delete()
    out_d = loop.base / "out-drift"
    drift = loop.step("drift", loop.runner("drift", "origin/main"), out_d)
    assert drift.code == 2, drift.stdout + drift.stderr
    assert "hcloud_server.api" in (out_d / "drift.md").read_text()
    quiet = loop.step("drift", loop.runner("drift-2", "origin/main"), loop.base / "out-drift-2")
    assert quiet.code == 2  # still drifted: the drift step changes nothing
