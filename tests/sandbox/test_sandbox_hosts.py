"""`reconciler sandbox` as root: each created server is a new host (its own address and host key) reachable
over SSH with the sandbox's key; deleting a server tears its host down; `down` leaves no process, namespace or
mount behind; `up` brings the same hosts back (same addresses, same host keys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosts.fixtures import need_hosts

pytestmark = pytest.mark.hosts

FLEET = """
provider "hcloud" {
  token = "t"
}
provider "google" {
  project = "sandbox-test"
}
variable "two" {
  type    = bool
  default = true
}
resource "hcloud_server" "a" {
  name        = "a"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}
resource "hcloud_server" "b" {
  enabled     = var.two
  name        = "b"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}
resource "google_compute_instance" "c" {
  name         = "c"
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
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == code, (args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout


def addresses(d: Path) -> dict[str, str]:
    state = json.loads((d / "reconciler.state.json").read_text())
    out = {}
    for address, r in state["resources"].items():
        attrs = r["attributes"]
        out[address] = attrs.get("ipv4_address") or attrs["network_interface"][0]["access_config"][0]["nat_ip"]
    return out


def host_key(d: Path, address: str) -> str:
    key = d / ".reconciler" / "sandbox" / "hosts" / "id_ed25519"
    out = subprocess.run(["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                          "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"root@{address}",
                          "cat /etc/ssh/ssh_host_ed25519_key.pub"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return " ".join(out.stdout.split()[:2])


def leftovers(d: Path, tag: str) -> list[str]:
    """Namespaces, processes and mounts of this sandbox still on the machine."""
    found = [f"namespace {n}" for n in os.listdir("/run/netns") if n.startswith(f"rct-{tag}-")] \
        if os.path.isdir("/run/netns") else []
    root = str(d / ".reconciler" / "sandbox")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            mounts = Path(f"/proc/{pid}/mountinfo").read_text()
        except OSError:
            continue
        if root in cmdline or ("reconciler.sandbox.daemon" in cmdline and str(d) in cmdline):
            found.append(f"process {pid}: {cmdline.strip()}")
        if root in mounts:
            found.append(f"mount in the namespace of process {pid}")
    return found


def test_servers_are_hosts_and_down_leaves_nothing(tmp_path: Path) -> None:
    need_hosts()
    d = tmp_path / "fleet"
    d.mkdir()
    (d / "main.tf").write_text(FLEET)
    up = cli(d, "sandbox", "up", "--speed", "200")
    assert "Servers get local hosts" in up
    run = json.loads((d / ".reconciler" / "sandbox" / "run.json").read_text())
    tag = run["tag"]
    try:
        cli(d, "apply", "--auto-approve")
        first = addresses(d)
        assert len(set(first.values())) == 3  # one host each
        assert all(a.startswith("10.213.") for a in first.values())
        keys = {a: host_key(d, ip) for a, ip in first.items()}
        assert len(set(keys.values())) == 3  # a new random host key per server
        # deleting a server tears its host down
        cli(d, "apply", "--auto-approve", "--var", "two=false")
        gone = first["hcloud_server.b"]
        assert subprocess.run(["ip", "-o", "addr", "show", "to", gone], capture_output=True, text=True).stdout == ""
    finally:
        cli(d, "sandbox", "down")
    assert leftovers(d, tag) == []
    # up again: the same hosts at the same addresses with the same host keys, and nothing to change
    cli(d, "sandbox", "up", "--speed", "200")
    try:
        again = addresses(d)
        for address in ("hcloud_server.a", "google_compute_instance.c"):
            assert again[address] == first[address]
            assert host_key(d, again[address]) == keys[address]
        cli(d, "plan", "--detailed-exitcode", "--var", "two=false")
    finally:
        cli(d, "sandbox", "down")
    assert leftovers(d, tag) == []
