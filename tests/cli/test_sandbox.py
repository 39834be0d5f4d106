"""`reconciler sandbox up|status|down`: the emulators in the background, and a fleet applied against them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

FLEET = """
provider "hcloud" {
  token = "a-real-token-stays-here"
}
provider "google" {
  project = "sandbox"
}
resource "hcloud_ssh_key" "admin" {
  name       = "admin"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8Kw3WbW0oXqZl2m9Lx1T6y2s3Q0i6p8m0S0bVY0xE a@b"
}
resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx23"
  image       = "ubuntu-24.04"
  location    = "fsn1"
  ssh_keys    = [hcloud_ssh_key.admin.name]
}
resource "google_compute_instance" "cpu" {
  name         = "cpu"
  machine_type = "e2-standard-2"
  zone         = "europe-west4-a"
  boot_disk {
    initialize_params {
      image = "debian-12"
    }
  }
  network_interface {
    network = "default"
    access_config {}
  }
}
"""


def cli(d: Path, *args: str, code: int = 0) -> str:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(d), "--no-color"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == code, (proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout


def test_sandbox_serves_a_whole_apply(tmp_path: Path) -> None:
    d = tmp_path / "fleet"
    d.mkdir()
    (d / "main.tf").write_text(FLEET)
    cli(d, "sandbox", "up", "--speed", "200")
    try:
        override = (d / "sandbox_override.tf").read_text()
        assert re.search(r'endpoint = "http://127\.0\.0\.1:\d+/v1"', override)
        assert (d / "main.tf").read_text() == FLEET  # the user's provider blocks stay as they are
        assert "running" in cli(d, "sandbox", "status")
        out = cli(d, "apply", "--auto-approve")
        assert "Apply complete: 3 done, 0 failed" in out
        state = json.loads((d / "reconciler.state.json").read_text())
        assert {r["type"] for r in state["resources"].values()} == {"hcloud_ssh_key", "hcloud_server",
                                                                     "google_compute_instance"}
        assert all(r["id"] for r in state["resources"].values())
        cli(d, "plan", "--detailed-exitcode")
        cost = cli(d, "cost")
        assert "hcloud_server.web" in cost and re.search(r"Monthly cost: \S+ EUR -> \S+ EUR", cost)
        # forget the server, then adopt it again by id: no second server, and nothing to replace
        server_id = state["resources"]["hcloud_server.web"]["id"]
        cli(d, "state", "rm", "hcloud_server.web")
        assert "hcloud_server.web" in cli(d, "plan", "--no-refresh", "--detailed-exitcode", code=2)
        assert f"Imported hcloud_server.web (id {server_id})" in cli(d, "import", "hcloud_server.web", server_id)
        after = json.loads(cli(d, "plan", "--json"))
        web = [c for c in after["resource_changes"] if c["address"] == "hcloud_server.web"]
        assert not web or web[0]["change"]["actions"] in (["no-op"], ["update"])
        cli(d, "import", "hcloud_server.web", server_id, code=1)  # already in state: one clear error
    finally:
        cli(d, "sandbox", "down")
    assert "not running" in cli(d, "sandbox", "status", code=1)
    # the configuration still points at its sandbox: one line naming it, not connection retries
    stopped = subprocess.run([sys.executable, "-m", "reconciler", "plan", "-C", str(d), "--no-color"],
                             capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 1
    assert stopped.stderr.strip().splitlines() == [stopped.stderr.strip()]
    assert "the sandbox of this configuration is not running" in stopped.stderr
    # up again: the same endpoints and the same servers and instances, so nothing to do
    cli(d, "sandbox", "up", "--speed", "200")
    try:
        assert (d / "sandbox_override.tf").read_text() == override
        again = json.loads(cli(d, "plan", "--json"))
        actions = {c["address"]: c["change"]["actions"] for c in again["resource_changes"]}
        assert not [a for a, acts in actions.items() if "create" in acts or "delete" in acts], actions
    finally:
        cli(d, "sandbox", "down")
