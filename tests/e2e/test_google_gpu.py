"""Issue 4 through the CLI: a GPU node on Compute Engine (an attached T4, scheduling TERMINATE) toggled on,
off and on again keeps its name and labels and each plan prices it; a stockout in the first of
`zones = [...]` lands it in the next zone, which state and the next plan report; an exceeded GPU quota is
one error line naming the quota; and a kill between the insert and its record makes no second instance."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from providers.base import address_label
from providers.google.emulator import Emulator
from providers.google.emulator import start_emulator as start_gce
from providers.google.prices import TABLE as PRICE_TABLE

from .conftest import GCE_PROJECT, GCE_SCALE, Cli, Result, google_provider, wait_until
from .holding_proxy import HoldingProxy

GPU = "google_compute_instance.gpu"
CPU = "google_compute_instance.cpu"
ZONES = ("europe-west4-a", "europe-west4-b", "europe-west4-c")
COST = re.compile(r"^Monthly cost: ([\d,.]+) USD -> ([\d,.]+) USD \(([+-])([\d,.]+) USD\)$", re.M)

GPU_BLOCK = """
variable "gpu" {
  type    = bool
  default = false
}

resource "google_compute_instance" "gpu" {
  enabled      = var.gpu
  name         = "scheelite"
  machine_type = "n1-standard-8"
  zones        = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
  labels       = { fleet = "e2e", gpu = "t4" }

  boot_disk {
    initialize_params {
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
      size  = 100
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
    automatic_restart   = true
  }
}
"""

CPU_BLOCK = """
resource "google_compute_instance" "cpu" {
  name         = "cinnabar"
  machine_type = "e2-standard-4"
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
}
"""


def gpu_node_price() -> float:
    """n1-standard-8 plus one T4 in europe-west4, from the bundled table (list price x hours per month)."""
    table = json.loads(PRICE_TABLE.read_text())
    region = table["regions"]["europe-west4"]
    hourly = region["machine_types"]["n1-standard-8"]["hourly"] + region["gpus"]["nvidia-tesla-t4"]
    return round(hourly * table["hours_per_month"], 2)


def cost_line(output: str) -> tuple[float, float, float]:
    """(before, after, signed delta) of the plan's one USD cost line."""
    [(before, after, sign, delta)] = COST.findall(output)
    number = [float(x.replace(",", "")) for x in (before, after, delta)]
    return number[0], number[1], number[2] if sign == "+" else -number[2]


def instances(emu: Emulator) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in emu.instances(GCE_PROJECT)}


def zone_of(instance: dict[str, Any]) -> str:
    return str(instance["zone"]).rsplit("/", 1)[-1]


def gce_problems(emu: Emulator, state: dict[str, Any]) -> list[str]:
    """Duplicates (one name in two zones), orphans (ours, unrecorded) and ghosts (recorded, missing)."""
    found = emu.instances(GCE_PROJECT)
    names = [i["name"] for i in found]
    problems = [f"duplicate: {n}" for n in sorted(set(names)) if names.count(n) > 1]
    ours = {f"projects/{GCE_PROJECT}/zones/{zone_of(i)}/instances/{i['name']}" for i in found
            if (i.get("labels") or {}).get("reconciler-lineage") == state["lineage"]}
    recorded = {r["id"] for r in state["resources"].values()
                if r["type"] == "google_compute_instance" and r.get("id")}
    problems += [f"orphan: {i}" for i in sorted(ours - recorded)]
    problems += [f"ghost: {i}" for i in sorted(recorded - ours)]
    return problems


def test_gpu_node_on_off_on_keeps_name_and_labels_and_each_plan_prices_it(cli: Cli, gce: Emulator) -> None:
    cli.write(google_provider(gce.endpoint) + GPU_BLOCK + CPU_BLOCK)
    price = gpu_node_price()
    first = cli.run("apply", "--auto-approve")
    assert f"  # {GPU} is dormant\n  # (because enabled = false)\n" in first.stdout
    _, base, _ = cost_line(first.stdout)
    assert sorted(instances(gce)) == ["cinnabar"]

    seen: list[dict[str, Any]] = []
    for step, on in enumerate((True, False, True)):
        applied = cli.run("apply", "--auto-approve", "--var", f"gpu={str(on).lower()}")
        before, after, delta = cost_line(applied.stdout)  # apply shows the plan it carries out
        live = instances(gce)
        state = cli.state()
        assert gce_problems(gce, state) == [], step
        if on:
            assert f"  # {GPU} will be created\n" in applied.stdout
            assert (before, after, delta) == (base, round(base + price, 2), price)
            assert sorted(live) == ["cinnabar", "scheelite"]
            node = live["scheelite"]
            assert node["scheduling"]["onHostMaintenance"] == "TERMINATE"
            assert [(a["acceleratorType"].rsplit("/", 1)[-1], a["acceleratorCount"])
                    for a in node["guestAccelerators"]] == [("nvidia-tesla-t4", 1)]
            record = state["resources"][GPU]
            assert record["id"] == f"projects/{GCE_PROJECT}/zones/europe-west4-a/instances/scheelite"
            assert record["attributes"]["labels"] == {"fleet": "e2e", "gpu": "t4"}
            assert record["attributes"]["instance_id"] == node["id"]
            assert node["labels"] == {"fleet": "e2e", "gpu": "t4", "managed-by": "reconciler",
                                      "reconciler-lineage": state["lineage"],
                                      "reconciler-address": address_label(GPU)}
            seen.append(node)
        else:
            assert f"  # {GPU} will be destroyed\n  # (because enabled = false" in applied.stdout
            assert (before, after, delta) == (round(base + price, 2), base, -price)
            assert sorted(live) == ["cinnabar"] and GPU not in state["resources"]
    assert seen[0]["name"] == seen[1]["name"] == "scheelite"
    assert seen[0]["labels"] == seen[1]["labels"]
    assert seen[0]["id"] != seen[1]["id"]  # a new machine, with the same identity


def test_stockout_in_the_first_zone_lands_in_the_next_and_says_so(cli: Cli, gce: Emulator) -> None:
    gce.set_knobs(stockouts=[{"zone": "europe-west4-a", "accelerator": "nvidia-tesla-t4"}])
    cli.write(google_provider(gce.endpoint) + GPU_BLOCK)
    applied = cli.run("apply", "--auto-approve", "--var", "gpu=true")
    assert f"{GPU}: no capacity in europe-west4-a" in applied.stdout
    [node] = gce.instances(GCE_PROJECT)
    assert zone_of(node) == "europe-west4-b"
    state = cli.state()
    assert gce_problems(gce, state) == []
    record = state["resources"][GPU]
    assert record["id"] == f"projects/{GCE_PROJECT}/zones/europe-west4-b/instances/scheelite"
    assert record["attributes"]["zone"] == "europe-west4-b"

    gce.set_knobs(stockouts=[])  # capacity is back in the first zone: the node stays where it is
    replan = cli.run("plan", "--json", "--detailed-exitcode", "--var", "gpu=true", code=0)
    [change] = [c for c in json.loads(replan.stdout)["resource_changes"] if c["address"] == GPU]
    assert change["change"]["actions"] == ["no-op"]
    assert change["change"]["after"]["zone"] == "europe-west4-b"


@dataclass(frozen=True)
class QuotaOutcome:
    failed: Result  # apply with the GPU quota at 0
    after_failure: dict[str, Any]  # the state it left
    live_after_failure: list[str]  # instance names then
    replan: Result  # plan right after, quota still at 0
    retried: Result  # apply once the quota is raised
    state: dict[str, Any]
    problems: list[str]
    live: list[str]


@pytest.fixture(scope="module")
def quota_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuotaOutcome]:
    directory = tmp_path_factory.mktemp("quota") / "fleet"
    directory.mkdir()
    cli = Cli(directory)
    with start_gce(time_scale=GCE_SCALE, quotas={"GPUS_ALL_REGIONS": 0}) as gce:
        cli.write(google_provider(gce.endpoint) + GPU_BLOCK + CPU_BLOCK)
        failed = cli.run("apply", "--auto-approve", "--var", "gpu=true", code=None)
        after_failure, live_after_failure = cli.state(), sorted(instances(gce))
        replan = cli.run("plan", "--var", "gpu=true", code=None)
        gce.set_knobs(quotas={})
        retried = cli.run("apply", "--auto-approve", "--var", "gpu=true", code=None)
        state = cli.state()
        yield QuotaOutcome(failed, after_failure, live_after_failure, replan, retried, state,
                           gce_problems(gce, state), sorted(instances(gce)))


def test_quota_exceeded_is_one_error_line_naming_the_quota(quota_run: QuotaOutcome) -> None:
    failed = quota_run.failed
    assert failed.code == 1, failed.explain()
    [line] = failed.error_lines
    assert "GPUS_ALL_REGIONS" in line and "quota" in line and line.startswith(f"error: {GPU}: ")
    assert failed.stderr.count("\n") == 1  # nothing else on stderr
    assert "Traceback" not in failed.stdout + failed.stderr
    assert "Apply finished with errors: 1 done, 1 failed" in failed.stdout  # the CPU node did not wait on it
    assert quota_run.live_after_failure == ["cinnabar"]


def test_once_the_quota_is_raised_the_next_apply_creates_the_node_once(quota_run: QuotaOutcome) -> None:
    assert quota_run.retried.code == 0, quota_run.retried.explain()
    assert quota_run.problems == []
    assert quota_run.live == ["cinnabar", "scheelite"]


def test_quota_error_line_names_the_address_once(quota_run: QuotaOutcome) -> None:
    [line] = quota_run.failed.error_lines
    assert line.count(GPU) == 1, line


def test_a_create_that_failed_on_quota_records_no_instance(quota_run: QuotaOutcome) -> None:
    entry = quota_run.after_failure["resources"].get(GPU, {})
    assert entry.get("id") is None, entry
    assert "Objects have changed outside of reconciler" not in quota_run.replan.stdout  # no drift reported


def test_kill_between_insert_and_record_then_apply_makes_no_duplicate(cli: Cli, gce: Emulator) -> None:
    # zone a has no T4 at the moment of the insert; the insert in zone b is served, its answer held back
    gce.set_knobs(stockouts=[{"zone": "europe-west4-a", "accelerator": "nvidia-tesla-t4", "at_once": True}])
    with HoldingProxy(gce.endpoint) as proxy:
        held = proxy.hold("POST", r"/zones/europe-west4-b/instances$")
        cli.write(google_provider(proxy.endpoint) + GPU_BLOCK)
        apply = cli.start("apply", "--auto-approve", "--var", "gpu=true")
        assert held.answered.wait(timeout=60), cli.output_of(apply)
        apply.send_signal(signal.SIGKILL)
        assert apply.wait(timeout=30) == -signal.SIGKILL
        held.release()
        assert held.status == 200
        wait_until(lambda: gce.instances(GCE_PROJECT) != [], what="the instance")
        [made] = gce.instances(GCE_PROJECT)
        crashed = cli.state()
        entry = crashed["resources"][GPU]
        assert entry["id"] is None and entry["pending"]["zone"] == "europe-west4-b"  # intended, never recorded

        gce.set_knobs(stockouts=[])  # zone a has capacity again: a fresh insert would land there
        again = cli.run("apply", "--auto-approve", "--var", "gpu=true")
        state = cli.state()
        assert gce_problems(gce, state) == [], again.explain()
        [node] = gce.instances(GCE_PROJECT)
        assert node["id"] == made["id"] and zone_of(node) == "europe-west4-b"
        assert state["resources"][GPU]["id"] == f"projects/{GCE_PROJECT}/zones/europe-west4-b/instances/scheelite"
        assert not state["resources"][GPU].get("pending")
        cli.run("plan", "--detailed-exitcode", "--var", "gpu=true", code=0)
