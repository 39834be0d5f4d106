"""The Compute Engine emulator on its own: operations over (fake) time, requestId dedupe, stockouts and
quotas, fingerprints, filters and paging through the real client, injected faults, the control endpoint,
NAT IPs for test hosts, and the standalone command."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gce_support import PROJECT, seed
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

from providers.google.emulator import Emulator, start_emulator
from providers.google.emulator_filter import FilterError, compile_filter
from providers.google.emulator_knobs import Knobs
from providers.google.emulator_model import ComputeModel
from providers.google.emulator_resources import ApiError

ZONE = "us-central1-a"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body(name: str, machine: str = "e2-small", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name, "machineType": f"zones/{ZONE}/machineTypes/{machine}",
        "disks": [{"boot": True, "initializeParams": {
            "sourceImage": "projects/debian-cloud/global/images/family/debian-12",
            "diskType": f"zones/{ZONE}/diskTypes/pd-balanced"}}],
        "networkInterfaces": [{"network": "global/networks/default", "accessConfigs": [{"type": "ONE_TO_ONE_NAT"}]}]}
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


def client(emulator: Emulator) -> compute_v1.InstancesClient:
    return compute_v1.InstancesClient(credentials=AnonymousCredentials(), transport="rest",
                                      client_options=ClientOptions(api_endpoint=emulator.endpoint))


def test_insert_operation_goes_pending_running_done_over_time(model: ComputeModel, clock: Clock) -> None:
    op = model.insert(PROJECT, ZONE, body("a"), None)
    assert op["status"] == "PENDING" and op["operationType"] == "insert"
    assert model.get_instance(PROJECT, ZONE, "a")["status"] == "PROVISIONING"
    clock.now += 2
    assert model.get_operation(PROJECT, ZONE, op["name"])["status"] == "RUNNING"
    clock.now += 6
    assert model.get_instance(PROJECT, ZONE, "a")["status"] == "STAGING"
    clock.now += 10
    done = model.get_operation(PROJECT, ZONE, op["name"])
    assert done["status"] == "DONE" and done["progress"] == 100 and "error" not in done
    assert model.get_instance(PROJECT, ZONE, "a")["status"] == "RUNNING"


def test_request_id_returns_the_same_operation_even_after_it_finished(model: ComputeModel, clock: Clock) -> None:
    first = model.insert(PROJECT, ZONE, body("a"), "rid-1")
    clock.now += 100
    again = model.insert(PROJECT, ZONE, body("a"), "rid-1")
    assert again["name"] == first["name"] and again["status"] == "DONE"
    assert len(model.instances(PROJECT)) == 1
    with pytest.raises(ApiError) as err:
        model.insert(PROJECT, ZONE, body("a"), "rid-2")
    assert err.value.status == 409 and err.value.reason == "alreadyExists"


def test_stockout_inside_the_operation_removes_the_instance(model: ComputeModel, clock: Clock) -> None:
    model.knobs = model.knobs.updated({"stockouts": [{"zone": ZONE, "machine_type": "e2-small"}]})
    op = model.insert(PROJECT, ZONE, body("a"), None)
    assert [i["name"] for i in model.instances(PROJECT)] == ["a"]  # visible while it is being tried
    clock.now += 100
    done = model.get_operation(PROJECT, ZONE, op["name"])
    assert done["error"]["errors"][0]["code"] == "ZONE_RESOURCE_POOL_EXHAUSTED"
    assert done["httpErrorStatusCode"] == 503
    assert model.instances(PROJECT) == []
    model.insert(PROJECT, ZONE, body("b", machine="e2-medium"), None)  # another machine type fits


def test_stockout_at_once_and_per_accelerator(model: ComputeModel) -> None:
    model.knobs = model.knobs.updated({"stockouts": [{"zone": ZONE, "accelerator": "nvidia-l4", "at_once": True}]})
    with pytest.raises(ApiError) as err:
        model.insert(PROJECT, ZONE, body("g", machine="g2-standard-4"), None)
    assert err.value.status == 503 and err.value.reason == "ZONE_RESOURCE_POOL_EXHAUSTED"
    assert err.value.details[0]["metadata"]["attachment"] == "nvidia-l4:1"
    model.insert(PROJECT, "us-central1-b", body("g", machine="g2-standard-4"), None)


def test_regional_and_global_quotas(model: ComputeModel, clock: Clock) -> None:
    model.knobs = model.knobs.updated({"quotas": {"CPUS": 4, "GPUS_ALL_REGIONS": 1}, "quota_in_operation": False})
    model.insert(PROJECT, ZONE, body("a", machine="e2-standard-4"), None)
    with pytest.raises(ApiError) as cpus:
        model.insert(PROJECT, ZONE, body("b", machine="e2-standard-2"), None)
    assert cpus.value.status == 403
    assert "Quota 'CPUS' exceeded.  Limit: 4.0 in region us-central1." in cpus.value.message
    model.insert(PROJECT, "europe-west4-a", body("c", machine="e2-standard-4"), None)
    model.knobs = model.knobs.updated({"quotas": {"GPUS_ALL_REGIONS": 1}, "quota_in_operation": True})
    model.insert(PROJECT, "europe-west4-a", body("g1", machine="g2-standard-4"), None)
    op = model.insert(PROJECT, ZONE, body("g2", machine="g2-standard-4"), None)
    clock.now += 100
    error = model.get_operation(PROJECT, ZONE, op["name"])["error"]["errors"][0]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert "GPUS_ALL_REGIONS" in error["message"] and "globally" in error["message"]
    assert error["errorDetails"][0]["quotaInfo"]["limit"] == 1


def test_set_labels_needs_the_current_fingerprint(model: ComputeModel, clock: Clock) -> None:
    model.insert(PROJECT, ZONE, body("a", labels={"x": "1"}), None)
    clock.now += 100
    inst = model.get_instance(PROJECT, ZONE, "a")
    with pytest.raises(ApiError) as stale:
        model.set_labels(PROJECT, ZONE, "a", {"labels": {"x": "2"}, "labelFingerprint": "stale"}, None)
    assert stale.value.status == 412
    op = model.set_labels(PROJECT, ZONE, "a", {"labels": {"x": "2"}, "labelFingerprint": inst["labelFingerprint"]},
                          None)
    assert model.get_instance(PROJECT, ZONE, "a")["labels"] == {"x": "1"}  # applied when the operation is done
    clock.now += 100
    assert model.get_operation(PROJECT, ZONE, op["name"])["status"] == "DONE"
    after = model.get_instance(PROJECT, ZONE, "a")
    assert after["labels"] == {"x": "2"} and after["labelFingerprint"] != inst["labelFingerprint"]
    meta = model.set_metadata(PROJECT, ZONE, "a", {"items": [{"key": "k", "value": "v"}],
                                                   "fingerprint": after["metadata"]["fingerprint"]}, None)
    clock.now += 100
    assert model.get_operation(PROJECT, ZONE, meta["name"])["status"] == "DONE"
    assert model.get_instance(PROJECT, ZONE, "a")["metadata"]["items"] == [{"key": "k", "value": "v"}]


def test_insert_validation_follows_the_api(model: ComputeModel) -> None:
    gpu = body("g", machine="n1-standard-4", guestAccelerators=[
        {"acceleratorType": f"zones/{ZONE}/acceleratorTypes/nvidia-tesla-t4", "acceleratorCount": 1}])
    with pytest.raises(ApiError, match="do not support live migration"):
        model.insert(PROJECT, ZONE, {**gpu, "scheduling": {"onHostMaintenance": "MIGRATE"}}, None)
    with pytest.raises(ApiError, match="Accelerator type 'nvidia-tesla-t4' does not exist in zone 'us-east1-b'"):
        model.insert(PROJECT, "us-east1-b", gpu, None)
    with pytest.raises(ApiError, match="Machine type with name 'g2-standard-4' does not exist in zone 'us-central1-f'"):
        model.insert(PROJECT, "us-central1-f", body("g", machine="g2-standard-4"), None)
    with pytest.raises(ApiError, match="Boot disk must be specified"):
        model.insert(PROJECT, ZONE, {**body("x"), "disks": []}, None)
    with pytest.raises(ApiError) as missing_zone:
        model.insert(PROJECT, "mars-north1-a", body("x"), None)
    assert missing_zone.value.status == 404
    inst_op = model.insert(PROJECT, ZONE, gpu, None)
    assert inst_op["status"] == "PENDING"
    assert model.get_instance(PROJECT, ZONE, "g")["scheduling"]["onHostMaintenance"] == "TERMINATE"


def test_filter_expressions() -> None:
    r = {"name": "web-1", "status": "RUNNING", "labels": {"managed-by": "reconciler", "env": "prod"},
         "scheduling": {"preemptible": False}}
    matches = [
        '(labels.managed-by = "reconciler") AND (labels.env = "prod")',
        'labels.managed-by = reconciler labels.env = prod',
        '(labels.env = "dev") OR (name = "web-1")',
        'NOT (labels.env = "dev")', '-labels.env = dev', 'labels.env != dev', 'labels.env:*', 'name:web',
        'name eq "web-.*"', 'scheduling.preemptible = false', 'labels.missing != x',
    ]
    misses = ['labels.env = "dev"', 'labels.missing = x', 'labels.missing:*', 'name ne "web-.*"',
              '(labels.env = "prod") AND (status = "STOPPED")']
    for text in matches:
        assert compile_filter(text)(r), text
    for text in misses:
        assert not compile_filter(text)(r), text
    for bad in ['(labels.env = "prod"', 'labels.env =', '= x', 'labels.env "x"']:
        with pytest.raises(FilterError):
            compile_filter(bad)


def test_paging_and_filters_through_the_client(emulator: Emulator) -> None:
    for i in range(7):
        seed(emulator, f"i{i}", ZONE, {"group": "a" if i < 5 else "b"})
    instances = client(emulator)
    pager = instances.list(request=compute_v1.ListInstancesRequest(project=PROJECT, zone=ZONE, max_results=2,
                                                                   filter='labels.group = "a"'))
    assert [i.name for i in pager] == ["i0", "i1", "i2", "i3", "i4"]
    assert emulator.calls == {"compute.instances.list": 3}
    first = next(iter(instances.aggregated_list(request=compute_v1.AggregatedListInstancesRequest(
        project=PROJECT, max_results=3)).pages))
    scopes = first.items
    assert [i.name for i in scopes[f"zones/{ZONE}"].instances] == ["i0", "i1", "i2"]
    warning = compute_v1.Warning.to_dict(scopes["zones/europe-west4-a"].warning, use_integers_for_enums=False)
    assert warning["code"] == "NO_RESULTS_ON_PAGE"
    with pytest.raises(gexc.BadRequest):
        instances.aggregated_list(request=compute_v1.AggregatedListInstancesRequest(
            project=PROJECT, page_token=first.next_page_token, filter='labels.group = "b"'))
    with pytest.raises(gexc.BadRequest):
        instances.list(request=compute_v1.ListInstancesRequest(project=PROJECT, zone=ZONE, filter="labels.group ="))


def test_wait_returns_at_done_or_after_its_bound(emulator: Emulator) -> None:
    operations = compute_v1.ZoneOperationsClient(credentials=AnonymousCredentials(), transport="rest",
                                                 client_options=ClientOptions(api_endpoint=emulator.endpoint))
    op = client(emulator).insert_unary(request=compute_v1.InsertInstanceRequest(
        project=PROJECT, zone=ZONE, instance_resource=compute_v1.Instance.from_json(json.dumps(body("w")))))
    assert operations.wait(project=PROJECT, zone=ZONE, operation=op.name).status == compute_v1.Operation.Status.DONE
    emulator.set_knobs(durations={"delete": 100000.0}, wait_timeout=5.0)
    slow = client(emulator).delete_unary(project=PROJECT, zone=ZONE, instance="w")
    waited = operations.wait(project=PROJECT, zone=ZONE, operation=slow.name)
    assert waited.status == compute_v1.Operation.Status.RUNNING  # the bounded wait gave up, the op goes on


def test_injected_faults_look_like_the_api(emulator: Emulator) -> None:
    instances = client(emulator)
    emulator.set_knobs(rate_limit_next=1, error_next=1)
    with pytest.raises(gexc.Forbidden) as limited:
        instances.get(project=PROJECT, zone=ZONE, instance="x", retry=None)
    assert limited.value.errors[0]["reason"] == "rateLimitExceeded"
    with pytest.raises(gexc.ServiceUnavailable) as broken:
        instances.get(project=PROJECT, zone=ZONE, instance="x", retry=None)
    assert broken.value.errors[0]["reason"] == "backendError"
    with pytest.raises(gexc.NotFound):
        instances.get(project=PROJECT, zone=ZONE, instance="x", retry=None)
    assert emulator.request_counts == {"GET /compute/v1/projects/{project}/zones/{zone}/instances/{instance}": 3}


def _http(url: str, payload: Any = None) -> tuple[int, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_control_endpoint_sets_knobs_and_reports_counts(emulator: Emulator) -> None:
    status, knobs = _http(f"{emulator.endpoint}/_emulator/knobs",
                          {"nat_ips": ["10.99.0.5"], "quotas": {"GPUS_ALL_REGIONS": 2},
                           "stockouts": [{"zone": ZONE, "machine_type": "e2-small"}]})
    assert status == 200 and knobs["nat_ips"] == ["10.99.0.5"] and emulator.knobs.quotas == {"GPUS_ALL_REGIONS": 2}
    assert emulator.knobs.stockouts[0].machine_type == "e2-small"
    status, error = _http(f"{emulator.endpoint}/_emulator/knobs", {"no_such_knob": 1})
    assert status == 400 and "no_such_knob" in error["error"]["message"]
    _http(f"{emulator.endpoint}/compute/v1/projects/{PROJECT}/zones")
    status, counts = _http(f"{emulator.endpoint}/_emulator/requests")
    assert counts["by_method"] == {"compute.zones.list": 1} and counts["total"] == 1


def test_nat_ips_are_handed_out_first_and_freed_on_delete(emulator: Emulator) -> None:
    emulator.set_knobs(nat_ips=["10.99.0.5"])
    seed_body = body("h1")
    emulator.add_instance(PROJECT, ZONE, seed_body)
    emulator.add_instance(PROJECT, ZONE, {**seed_body, "name": "h2"})
    nat = {i["name"]: i["networkInterfaces"][0]["accessConfigs"][0]["natIP"] for i in emulator.instances(PROJECT)}
    assert nat == {"h1": "10.99.0.5", "h2": "127.2.0.2"}  # h2: its own (loopback) address
    emulator.model.delete(PROJECT, ZONE, "h1", None)
    emulator.model.settle()
    emulator.add_instance(PROJECT, ZONE, {**seed_body, "name": "h3"})
    assert emulator.model.get_instance(PROJECT, ZONE, "h3")["networkInterfaces"][0]["accessConfigs"][0]["natIP"] \
        == "10.99.0.5"


def test_catalogue_through_the_client(emulator: Emulator) -> None:
    opts: dict[str, Any] = {"credentials": AnonymousCredentials(), "transport": "rest",
            "client_options": ClientOptions(api_endpoint=emulator.endpoint)}
    zones = [z.name for z in compute_v1.ZonesClient(**opts).list(project=PROJECT)]
    assert ZONE in zones and "europe-west4-a" in zones
    g2 = compute_v1.MachineTypesClient(**opts).get(project=PROJECT, zone=ZONE, machine_type="g2-standard-4")
    assert g2.guest_cpus == 4 and g2.accelerators[0].guest_accelerator_type == "nvidia-l4"
    with pytest.raises(gexc.NotFound):
        compute_v1.MachineTypesClient(**opts).get(project=PROJECT, zone="us-central1-f", machine_type="g2-standard-4")
    accelerators = compute_v1.AcceleratorTypesClient(**opts)
    assert {a.name for a in accelerators.list(project=PROJECT, zone="us-central1-f")} == {
        "nvidia-tesla-v100", "nvidia-tesla-p100", "nvidia-tesla-t4", "nvidia-tesla-a100"}
    emulator.set_knobs(withdrawn=[("us-central1-f", "nvidia-tesla-t4")])
    assert {a.name for a in accelerators.list(project=PROJECT, zone="us-central1-f")} == {
        "nvidia-tesla-v100", "nvidia-tesla-p100", "nvidia-tesla-a100"}


def test_standalone_command_serves_until_terminated() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "providers.google.emulator", "--port", "0", "--time-scale", "0.01"],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3])
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        endpoint = line.split('"')[3]
        assert endpoint.startswith("http://127.0.0.1:")
        status, zones = _http(f"{endpoint}/compute/v1/projects/{PROJECT}/zones")
        assert status == 200 and zones["kind"] == "compute#zoneList"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
