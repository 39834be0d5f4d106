"""Issue 10 through the CLI, Google half: what Compute Engine would refuse is refused at `validate` with the
file and line (n1-standard-1 with 16 x A100); a GPU instance that host maintenance stopped (TERMINATED) is
drift, planned as an in-place update, and started again by apply; a Spot instance, which the API reports
as preemptible, plans as a no-op right after its create (no perpetual replacement); and the bundled
example fleet validates with no problem under the rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from providers.google.emulator import Emulator

from .conftest import GCE_PROJECT, Cli, google_provider

GPU = "google_compute_instance.gpu"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GPU_NODE = """
resource "google_compute_instance" "gpu" {
  name         = "scheelite"
  machine_type = "g2-standard-8"
  labels       = { fleet = "e2e" }

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12-bookworm-v20260101"
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  scheduling {
    on_host_maintenance = "TERMINATE"
    automatic_restart   = false
  }
}
"""

SPOT_NODE = """
resource "google_compute_instance" "spot" {
  name         = "galena"
  machine_type = "e2-standard-4"

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }

  network_interface {
    network = "default"
  }

  scheduling {
    provisioning_model = "SPOT"
  }
}
"""

A100_ON_N1 = """
resource "google_compute_instance" "bad" {
  name         = "bad"
  machine_type = "n1-standard-1"

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }

  network_interface {
    network = "default"
  }

  guest_accelerator {
    type  = "nvidia-tesla-a100"
    count = 16
  }

  scheduling {
    on_host_maintenance = "TERMINATE"
  }
}
"""


def test_n1_standard_1_with_16_a100_is_refused_at_validate_with_file_and_line(cli: Cli) -> None:
    cli.write(google_provider("http://127.0.0.1:9") + A100_ON_N1)
    result = cli.run("validate", code=1)
    lines = result.stderr.strip().splitlines()
    line = next(n for n, text in enumerate((cli.directory / "main.tf").read_text().splitlines(), 1)
                if "guest_accelerator {" in text)
    assert len(lines) == 1, result.explain()
    assert lines[0].startswith(f"error: main.tf:{line}: n1-standard-1 (N1) cannot take nvidia-tesla-a100"), lines
    assert "a2-megagpu-16g (16)" in lines[0] and "N1 takes nvidia-tesla-p100, nvidia-tesla-p4" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (cli.directory / "reconciler.state.json").exists()  # nothing changed


def test_gpu_instance_stopped_by_host_maintenance_is_drift_and_apply_starts_it(cli: Cli, gce: Emulator) -> None:
    cli.write(google_provider(gce.endpoint) + GPU_NODE)
    cli.run("apply", "--auto-approve")
    [node] = gce.instances(GCE_PROJECT)
    assert node["status"] == "RUNNING"
    # the image was given by NAME (project/image): resolved as an image, not taken for a family
    assert cli.state()["resources"][GPU]["attributes"]["boot_disk"][0]["initialize_params"][0]["type"] == \
        "pd-balanced"  # G2's default boot disk, not pd-standard (which G2 refuses)

    gce.terminate(GCE_PROJECT, "europe-west4-a", "scheelite", "maintenance")
    text = cli.run("plan", "--detailed-exitcode", code=2).stdout
    assert f"# {GPU} will be updated in-place" in text, text
    assert "TERMINATED" in text and "apply starts it again" in text, text
    plan = json.loads(cli.run("plan", "--json", "--detailed-exitcode", code=2).stdout)
    [drift] = [d for d in plan["resource_drift"] if d["address"] == GPU]
    assert "desired_status" in json.dumps(drift)  # drift: stopped outside reconciler
    [change] = [c for c in plan["resource_changes"] if c["address"] == GPU]
    assert change["change"]["actions"] == ["update"]  # started in place, not replaced
    assert change["change"]["after"]["desired_status"] == "RUNNING"

    cli.run("apply", "--auto-approve")
    [node] = gce.instances(GCE_PROJECT)
    assert node["status"] == "RUNNING" and node["id"] == cli.state()["resources"][GPU]["attributes"]["instance_id"]
    assert cli.state()["resources"][GPU]["attributes"]["desired_status"] == "RUNNING"
    cli.run("plan", "--detailed-exitcode", code=0)


def test_spot_instance_plans_no_change_after_create_and_is_started_after_preemption(cli: Cli, gce: Emulator) -> None:
    cli.write(google_provider(gce.endpoint) + SPOT_NODE)
    cli.run("apply", "--auto-approve")
    [node] = gce.instances(GCE_PROJECT)
    assert node["scheduling"]["provisioningModel"] == "SPOT" and node["scheduling"]["preemptible"] is True
    replan = cli.run("plan", "--json", "--detailed-exitcode", code=0)
    [change] = json.loads(replan.stdout)["resource_changes"]
    assert change["change"]["actions"] == ["no-op"]

    gce.terminate(GCE_PROJECT, "europe-west4-a", "galena", "preemption")
    cli.run("plan", "--detailed-exitcode", code=2)
    cli.run("apply", "--auto-approve")
    assert gce.instances(GCE_PROJECT)[0]["status"] == "RUNNING"
    cli.run("plan", "--detailed-exitcode", code=0)


def test_example_fleets_validate_under_the_gce_rules(tmp_path: Path) -> None:
    for example in ("fleet", "fleet-json"):
        target = tmp_path / example
        shutil.copytree(EXAMPLES / example, target)
        runner = Cli(target)
        result = runner.run("validate", "--var", "gpu_enabled=true")
        assert "Warning" not in result.stdout + result.stderr
