"""A create-before-destroy replace through the real CLI against the Compute Engine emulator, whose provider
journals its delete (the operation's request id goes into the write-ahead record before the call): after
the apply, the address holds the new instance alone, with no write-ahead record left behind, and the next
plan is empty."""

from __future__ import annotations

from providers.google.emulator import Emulator

from .conftest import GCE_PROJECT, Cli, google_provider

NODE = "google_compute_instance.node"

CONFIG = """
variable "name" {
  type    = string
  default = "galena-1"
}

resource "google_compute_instance" "node" {
  name         = var.name
  machine_type = "e2-standard-4"
  zone         = "europe-west4-a"
  labels       = { fleet = "e2e" }

  boot_disk {
    initialize_params {
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  lifecycle {
    create_before_destroy = true
  }
}
"""


def test_replace_with_a_journalled_delete_leaves_no_pending_record(cli: Cli, gce: Emulator) -> None:
    cli.write(google_provider(gce.endpoint) + CONFIG)
    cli.run("apply", "--auto-approve")
    old = cli.state()["resources"][NODE]
    new_image = ("--var", "name=galena-2")  # a new name: both instances exist for a while
    planned = cli.run("plan", "--detailed-exitcode", *new_image, code=2)
    assert f"# {NODE} must be replaced" in planned.stdout and "+/- resource" in planned.stdout, planned.explain()

    applied = cli.run("apply", "--auto-approve", *new_image)
    record = cli.state()["resources"][NODE]
    assert "pending" not in record, (record, applied.explain())
    assert record["attributes"]["instance_id"] != old["attributes"]["instance_id"]
    live = gce.instances(GCE_PROJECT)
    assert [(i["name"], str(i["id"])) for i in live] == [("galena-2", str(record["attributes"]["instance_id"]))]
    cli.run("plan", "--detailed-exitcode", *new_image, code=0)
