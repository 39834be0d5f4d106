"""The Compute Engine emulator refuses what the API refuses, from its own catalogue, with the API's status,
reason and wording: GPUs that do not go with the machine type, boot disk types a family does not take,
images/networks/subnetworks that do not exist, unknown body fields, label and metadata rules,
`maxResults` over 500 and an invalid filter regex (a 400, not a dropped connection); and it models the
states and errors a provider must live with: PROVISIONING/STAGING, resourceNotReady while an operation
runs, 429 RESOURCE_EXHAUSTED, TERMINATED by host maintenance or Spot preemption, and `instances.start`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from gce_support import PROJECT
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

from providers.google.emulator import Emulator, start_emulator
from providers.google.emulator_errors import ApiError
from providers.google.emulator_knobs import Knobs
from providers.google.emulator_model import ComputeModel

ZONE = "us-central1-a"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body(name: str, machine: str = "e2-small", gpus: list[tuple[str, int]] | None = None,
         disk: str | None = "pd-balanced", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"sourceImage": "projects/debian-cloud/global/images/family/debian-12"}
    if disk:
        params["diskType"] = f"zones/{ZONE}/diskTypes/{disk}"
    out: dict[str, Any] = {
        "name": name, "machineType": f"zones/{ZONE}/machineTypes/{machine}",
        "disks": [{"boot": True, "initializeParams": params}],
        "networkInterfaces": [{"network": "global/networks/default"}]}
    if gpus:
        out["guestAccelerators"] = [{"acceleratorType": f"zones/{ZONE}/acceleratorTypes/{t}", "acceleratorCount": n}
                                    for t, n in gpus]
        out["scheduling"] = {"onHostMaintenance": "TERMINATE"}
    out.update(extra)
    return out


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def model(clock: Clock) -> ComputeModel:
    return ComputeModel(Knobs(time_scale=1.0), clock=clock)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(time_scale=0.002) as emu:
        yield emu


def refused(model: ComputeModel, payload: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as err:
        model.insert(PROJECT, ZONE, payload, None)
    assert payload["name"] not in {i["name"] for i in model.instances(PROJECT)}  # nothing was made
    return err.value


@pytest.mark.parametrize(("machine", "gpus", "message"), [
    ("e2-standard-4", [("nvidia-tesla-t4", 3)], "[nvidia-tesla-t4, e2-standard-4] features are not compatible for "
     "creating instance."),
    ("n1-standard-1", [("nvidia-tesla-a100", 16)], "[nvidia-tesla-a100, n1-standard-1] features are not compatible "
     "for creating instance."),
    ("n2-standard-2", [("nvidia-l4", 1)], "[nvidia-l4, n2-standard-2] features are not compatible"),
    ("g2-standard-8", [("nvidia-l4", 8)], "Invalid value for field 'resource.guestAccelerators[0].acceleratorCount': "
     "'8'. Accelerator count \"8\" is not allowed for machine type \"g2-standard-8\"; allowed values: [1]."),
    ("n1-standard-4", [("nvidia-tesla-t4", 3)], "allowed values: [1, 2, 4]"),
    ("n1-standard-32", [("nvidia-tesla-v100", 1)], "allowed values: [4, 8]"),
])
def test_gpus_that_do_not_go_with_the_machine_type_are_400(model: ComputeModel, machine: str,
                                                            gpus: list[tuple[str, int]], message: str) -> None:
    err = refused(model, body("g", machine, gpus))
    assert err.status == 400 and message in err.message


@pytest.mark.parametrize(("machine", "gpus"), [
    ("n1-standard-8", [("nvidia-tesla-t4", 1)]), ("g2-standard-8", [("nvidia-l4", 1)]), ("g2-standard-8", None),
    ("a2-highgpu-8g", [("nvidia-tesla-a100", 8)]), ("n1-standard-96", [("nvidia-tesla-v100", 8)]),
])
def test_gpus_that_fit_are_accepted(model: ComputeModel, machine: str, gpus: list[tuple[str, int]] | None) -> None:
    model.insert(PROJECT, ZONE, body("g", machine, gpus), None)
    assert [i["name"] for i in model.instances(PROJECT)] == ["g"]


def test_boot_disk_type_must_suit_the_family(model: ComputeModel) -> None:
    err = refused(model, body("c", "c3-standard-4", disk="pd-standard"))
    assert "pd-standard disk type cannot be used by c3-standard-4 machine type." in err.message
    err = refused(model, body("c", "c3-standard-4", disk=None))  # the API's own default is pd-standard
    assert err.status == 400 and "diskType" in err.message
    model.insert(PROJECT, ZONE, body("c", "c3-standard-4", disk="hyperdisk-balanced"), None)


def test_images_networks_and_subnetworks_must_exist(model: ComputeModel) -> None:
    missing = body("a")
    missing["disks"][0]["initializeParams"]["sourceImage"] = "projects/debian-cloud/global/images/family/debian-99"
    assert "The referenced image resource cannot be found." in refused(model, missing).message
    name_as_family = body("a")  # an image NAME written as if it were a family
    name_as_family["disks"][0]["initializeParams"]["sourceImage"] = \
        "projects/debian-cloud/global/images/family/debian-12-bookworm-v20260101"
    assert "sourceImage" in refused(model, name_as_family).message
    err = refused(model, body("a", networkInterfaces=[{"network": "global/networks/private"}]))
    assert "The referenced network resource cannot be found." in err.message
    err = refused(model, body("a", networkInterfaces=[{"network": "global/networks/default",
                                                       "subnetwork": "regions/us-central1/subnetworks/other"}]))
    assert "The referenced subnetwork resource cannot be found." in err.message
    model.knobs = model.knobs.updated({"networks": ["private"]})
    model.insert(PROJECT, ZONE, body("a", networkInterfaces=[{"network": "global/networks/private"}]), None)


def test_unknown_fields_labels_and_metadata_follow_the_api(model: ComputeModel) -> None:
    err = refused(model, body("a", colour="blue"))
    assert err.message == "Invalid JSON payload received. Unknown name \"colour\" at 'resource': Cannot find field."
    err = refused(model, body("a", scheduling={"preemptable": True}))
    assert "Unknown name \"preemptable\" at 'resource.scheduling'" in err.message
    err = refused(model, body("a", labels={f"k{i}": "v" for i in range(65)}))
    assert "Resource can have at most 64 labels." in err.message
    err = refused(model, body("a", metadata={"items": [{"key": "bad key!", "value": "x"}]}))
    assert "Must be a match of regex '[a-zA-Z0-9-_]{1,128}'" in err.message
    err = refused(model, body("a", metadata={"items": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}))
    assert "Duplicate metadata key" in err.message


def test_spot_is_reported_preemptible_and_preemptible_needs_spot(model: ComputeModel) -> None:
    model.insert(PROJECT, ZONE, body("s", scheduling={"provisioningModel": "SPOT"}), None)
    sched = model.get_instance(PROJECT, ZONE, "s")["scheduling"]
    assert sched["preemptible"] is True and sched["provisioningModel"] == "SPOT"
    assert sched["automaticRestart"] is False and sched["onHostMaintenance"] == "TERMINATE"
    err = refused(model, body("p", scheduling={"preemptible": True, "provisioningModel": "STANDARD"}))
    assert "For preemptible, only allowed provisioning_model value is SPOT." in err.message


def test_a_change_while_an_operation_runs_is_resource_not_ready(model: ComputeModel, clock: Clock) -> None:
    model.insert(PROJECT, ZONE, body("a"), None)
    assert model.get_instance(PROJECT, ZONE, "a")["status"] == "PROVISIONING"
    with pytest.raises(ApiError) as err:
        model.delete(PROJECT, ZONE, "a", None)
    assert (err.value.status, err.value.reason) == (400, "resourceNotReady")
    assert err.value.message == f"The resource 'projects/{PROJECT}/zones/{ZONE}/instances/a' is not ready"
    clock.now += 100
    model.delete(PROJECT, ZONE, "a", None)


def test_maintenance_and_preemption_terminate_and_start_brings_it_back(model: ComputeModel, clock: Clock) -> None:
    model.insert(PROJECT, ZONE, body("g", "g2-standard-8"), None)
    model.insert(PROJECT, ZONE, body("s", scheduling={"provisioningModel": "SPOT"}), None)
    model.insert(PROJECT, ZONE, body("plain"), None)
    clock.now += 100
    model.terminate(PROJECT, ZONE, "g", "maintenance")
    model.terminate(PROJECT, ZONE, "s", "preemption")
    with pytest.raises(ValueError, match="live-migrates"):
        model.terminate(PROJECT, ZONE, "plain", "maintenance")
    with pytest.raises(ValueError, match="cannot be preempted"):
        model.terminate(PROJECT, ZONE, "plain", "preemption")
    assert {i["name"]: i["status"] for i in model.instances(PROJECT)} == \
        {"g": "TERMINATED", "s": "TERMINATED", "plain": "RUNNING"}
    op = model.start(PROJECT, ZONE, "g", None)
    assert model.get_instance(PROJECT, ZONE, "g")["status"] == "STAGING"
    clock.now += 100
    assert model.get_operation(PROJECT, ZONE, op["name"])["status"] == "DONE"
    assert model.get_instance(PROJECT, ZONE, "g")["status"] == "RUNNING"


def _http(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_list_limits_and_bad_filters_are_400_not_a_dropped_connection(emulator: Emulator) -> None:
    base = f"{emulator.endpoint}/compute/v1/projects/{PROJECT}/zones/{ZONE}/instances"
    status, answer = _http(f"{base}?maxResults=501")
    assert status == 400 and answer["error"]["errors"][0]["reason"] == "invalid"
    assert "maxResults" in answer["error"]["message"]
    status, answer = _http(f"{base}?filter=name%20eq%20%28unclosed")
    assert status == 400 and "Invalid list filter expression" in answer["error"]["message"]
    status, _ = _http(f"{base}?maxResults=500")
    assert status == 200


def test_resource_exhausted_429_and_images_through_the_client(emulator: Emulator) -> None:
    opts: dict[str, Any] = {"credentials": AnonymousCredentials(), "transport": "rest",
                            "client_options": ClientOptions(api_endpoint=emulator.endpoint)}
    images = compute_v1.ImagesClient(**opts)
    assert images.get_from_family(project="debian-cloud", family="debian-12").name == "debian-12-bookworm-v20260101"
    assert images.get(project="debian-cloud", image="debian-12-bookworm-v20251111").family == "debian-12"
    with pytest.raises(gexc.NotFound):
        images.get(project="debian-cloud", image="debian-12")  # a family, not an image
    emulator.set_knobs(exhausted_next=1)
    with pytest.raises(gexc.TooManyRequests) as err:
        images.get(project="debian-cloud", image="debian-12-bookworm-v20251111")
    assert err.value.code == 429
    assert images.get(project="debian-cloud", image="debian-12-bookworm-v20251111").status == "READY"
    disks = compute_v1.DiskTypesClient(**opts)
    assert "hyperdisk-balanced" in {d.name for d in disks.list(project=PROJECT, zone=ZONE)}
