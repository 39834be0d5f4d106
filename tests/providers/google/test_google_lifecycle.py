"""The google provider against the emulator's states and errors: a delete while the insert still runs
(resourceNotReady) is retried until the instance is ready; 429 RESOURCE_EXHAUSTED is retried; an image
NAME given as `project/name` reaches the insert as an image, a family as a family; a Spot instance
refreshes to exactly what the plan expects (no replacement); a TERMINATED instance is planned as an
in-place update that starts it; and the catalogue refresh rewrites the dated table from the API."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from gce_support import (
    PROJECT,
    TYPE,
    RecordingJournal,
    create_request,
    make_provider,
    recorded,
    run,
    small_config,
)

from providers.base import ApplyRequest, PlanRequest, RecordedResource, RefreshRequest
from providers.google import RetryPolicy, planning
from providers.google.attributes import desired
from providers.google.catalog import parse
from providers.google.catalog_refresh import build, refresh_catalog
from providers.google.emulator import Emulator, start_emulator
from providers.google.planning import plan_one
from providers.google.rules import check_instance
from reconciler.actions import Action

ADDR = "google_compute_instance.web"
ZONE = "europe-west4-a"
PATIENT = RetryPolicy(base=0.001, cap=0.01, attempts=8, not_ready_delay=0.02, not_ready_attempts=500)


def _emulator() -> Emulator:
    return start_emulator(time_scale=0.002)


def _create(emulator: Emulator, config: dict[str, object]) -> RecordedResource:
    async def scenario() -> RecordedResource:
        provider = make_provider(emulator)
        try:
            answer = await provider.apply(create_request(ADDR, config), RecordingJournal(Action.CREATE))
        finally:
            await provider.close()
        assert answer.id is not None
        return recorded(ADDR, answer.id, answer.attributes, answer.private)

    return run(scenario())


def test_delete_during_the_insert_waits_out_resource_not_ready() -> None:
    with _emulator() as emulator:
        emulator.set_knobs(durations={"insert": 1e9})  # the insert runs until the test finishes it
        body = {"name": "web", "machineType": f"zones/{ZONE}/machineTypes/e2-small",
                "disks": [{"boot": True, "initializeParams": {
                    "sourceImage": "projects/debian-cloud/global/images/family/debian-12",
                    "diskType": f"zones/{ZONE}/diskTypes/pd-balanced"}}],
                "networkInterfaces": [{"network": "global/networks/default"}]}
        emulator.model.insert(PROJECT, ZONE, body, None)
        prior = recorded(ADDR, f"projects/{PROJECT}/zones/{ZONE}/instances/web", {"name": "web", "zone": ZONE})

        def finish_insert_once_refused() -> None:
            while emulator.calls.get("compute.instances.delete", 0) < 2:
                time.sleep(0.005)
            emulator.model.settle()

        helper = threading.Thread(target=finish_insert_once_refused, daemon=True)
        helper.start()

        async def scenario() -> None:
            provider = make_provider(emulator, retry=PATIENT)
            try:
                answer = await provider.apply(ApplyRequest(ADDR, TYPE, Action.DELETE, {}, prior),
                                              RecordingJournal(Action.DELETE))
            finally:
                await provider.close()
            assert answer.id is None

        run(scenario())
        helper.join(timeout=5)
        assert emulator.instances(PROJECT) == []
        assert emulator.calls["compute.instances.delete"] >= 3  # refused while the insert ran, then accepted


def test_resource_exhausted_429_is_retried() -> None:
    with _emulator() as emulator:
        emulator.set_knobs(exhausted_next=3)
        _create(emulator, small_config("web"))
        assert [i["status"] for i in emulator.instances(PROJECT)] == ["RUNNING"]
        assert emulator.calls["compute.images.get"] == 4  # three 429s, then the answer


def test_image_name_and_family_reach_the_insert_as_the_api_wants_them() -> None:
    with _emulator() as emulator:
        boot = [{"initialize_params": [{"image": "debian-cloud/debian-12-bookworm-v20251111"}]}]
        _create(emulator, small_config("web", boot_disk=boot))
        _create(emulator, small_config("fam", boot_disk=[{"initialize_params": [{"image": "debian-cloud/debian-12"}]}]))
        assert emulator.calls["compute.images.getFromFamily"] == 1  # only the family needed the second look
        assert emulator.calls["compute.images.get"] == 2


def _plan(emulator: Emulator, config: dict[str, object], prior: RecordedResource) -> tuple[RecordedResource, object]:
    async def scenario() -> tuple[RecordedResource, object]:
        provider = make_provider(emulator)
        try:
            found = await provider.refresh(RefreshRequest((prior,), ((ADDR, TYPE),)))
            now = found.found[ADDR]
            refreshed = RecordedResource(ADDR, TYPE, now.id, now.attributes, now.private)
            [answer] = provider.plan([PlanRequest(ADDR, TYPE, config, refreshed)])
            return refreshed, answer
        finally:
            await provider.close()

    return run(scenario())


def test_spot_instance_refreshes_to_what_the_plan_expects() -> None:
    with _emulator() as emulator:
        config = small_config("spot", scheduling=[{"provisioning_model": "SPOT"}])
        prior = _create(emulator, config)
        refreshed, answer = _plan(emulator, config, prior)
        assert answer.requires_replace == ()  # type: ignore[attr-defined]
        assert answer.planned["scheduling"] == refreshed.attributes["scheduling"]  # type: ignore[attr-defined]
        assert refreshed.attributes["scheduling"][0]["preemptible"] is True


def test_terminated_instance_is_updated_in_place_and_started() -> None:
    with _emulator() as emulator:
        config = small_config("spot", scheduling=[{"provisioning_model": "SPOT"}])
        prior = _create(emulator, config)
        emulator.terminate(PROJECT, ZONE, "spot", "preemption")
        refreshed, answer = _plan(emulator, config, prior)
        assert refreshed.attributes["desired_status"] == "TERMINATED"
        assert answer.planned["desired_status"] == "RUNNING"  # type: ignore[attr-defined]
        assert answer.requires_replace == ()  # type: ignore[attr-defined]
        assert any("apply starts it again" in n for n in answer.notes)  # type: ignore[attr-defined]

        async def scenario() -> None:
            provider = make_provider(emulator)
            try:
                await provider.apply(ApplyRequest(ADDR, TYPE, Action.UPDATE, answer.planned, refreshed),  # type: ignore[attr-defined]
                                     RecordingJournal(Action.UPDATE))
            finally:
                await provider.close()

        run(scenario())
        assert [i["status"] for i in emulator.instances(PROJECT)] == ["RUNNING"]
        assert emulator.calls["compute.instances.start"] == 1


def test_catalog_refresh_rewrites_the_dated_table_from_the_api(tmp_path: Path) -> None:
    with _emulator() as emulator:
        [written] = refresh_catalog({"project": PROJECT, "endpoint": emulator.endpoint}, tmp_path)
        calls = emulator.calls
    assert written == tmp_path / "catalog.json"
    data = json.loads(written.read_text())
    table = parse(data)
    assert table.machine_types["g2-standard-8"].gpus == {"nvidia-l4": 1}
    assert table.machine_types["n1-standard-8"].vcpus == 8 and table.machine_types["e2-micro"].shared_cpu
    assert "us-central1-f" not in table.accelerators["nvidia-l4"]
    assert ZONE in table.accelerators["nvidia-l4"] and table.accelerator_max["nvidia-tesla-a100"] == 16
    assert "hyperdisk-balanced" in table.disk_types and ZONE in table.zones
    assert table.series["n1"].gpus["nvidia-tesla-v100"][8] == 96  # the hand-written series rules are kept
    assert data["date"] == table.date and data["source"]  # dated today, the source kept
    per_zone = len(data["zones"])
    assert calls["compute.acceleratorTypes.aggregatedList"] == calls["compute.diskTypes.aggregatedList"] == 1
    # 500 machine types to a page: as many pages as the listing needs, no more
    assert 1 < calls["compute.machineTypes.aggregatedList"] <= -(-len(data["machine_types"]) * per_zone // 500)


def test_catalog_refresh_keeps_obsolete_types_apart_and_rules_refuse_them() -> None:
    previous = json.loads((Path(__file__).resolve().parents[3] / "providers/google/catalog.json").read_text())
    deprecated = {"state": "OBSOLETE", "obsolete": "2026-06-01T00:00:00Z",
                  "replacement": "https://compute.googleapis.com/compute/v1/projects/p/zones/z/machineTypes/n4-standard-2"}
    machines = {ZONE: [{"name": "n4-standard-2", "guestCpus": 2, "memoryMb": 8192},
                       {"name": "n1-ultramem-40", "guestCpus": 40, "memoryMb": 961 * 1024, "deprecated": deprecated}]}
    gpus = {ZONE: [{"name": "nvidia-tesla-t4", "description": "NVIDIA T4", "maximumCardsPerInstance": 4}]}
    disks = {ZONE: [{"name": "hyperdisk-balanced", "description": "Hyperdisk Balanced"}]}
    table = parse(build(previous, machines, gpus, disks, "2026-12-02"))
    assert table.date == "2026-12-02" and set(table.machine_types) == {"n4-standard-2"}
    assert table.retired_machine_types["n1-ultramem-40"].successor == "n4-standard-2"
    assert table.retired_machine_types["n1-ultramem-40"].unavailable_after == "2026-06-01"
    [problem] = check_instance(small_config("x", machine_type="n1-ultramem-40"), cat=table)
    assert problem.attribute == "machine_type" and "no longer offered (unavailable after 2026-06-01)" in problem.message
    assert problem.hint == "use n4-standard-2"


def test_a_deprecated_machine_type_is_noted_in_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = json.loads((Path(__file__).resolve().parents[3] / "providers/google/catalog.json").read_text())
    deprecated = {"state": "DEPRECATED", "deprecated": "2026-09-01T00:00:00Z",
                  "replacement": "zones/z/machineTypes/n4-standard-2"}
    machines = {ZONE: [{"name": "n2-standard-2", "guestCpus": 2, "memoryMb": 8192, "deprecated": deprecated},
                       {"name": "n4-standard-2", "guestCpus": 2, "memoryMb": 8192}]}
    table = parse(build(previous, machines, {}, {}, "2026-12-02"))
    assert table.machine_types["n2-standard-2"].deprecated == ("2026-09-01", "n4-standard-2")
    monkeypatch.setattr(planning, "catalog", lambda: table)
    answer = plan_one(PlanRequest(ADDR, TYPE, small_config("web", machine_type="n2-standard-2"), None), None)
    assert answer.notes == ("machine_type: n2-standard-2 is deprecated since 2026-09-01 (catalogue of 2026-12-02); "
                            "move to n4-standard-2 before it is withdrawn",)
    assert plan_one(PlanRequest(ADDR, TYPE, small_config("web", machine_type="n4-standard-2"), None), None).notes == ()
    assert check_instance(small_config("web", machine_type="n2-standard-2"), cat=table) == []  # still offered


def test_records_written_before_these_rules_plan_no_change() -> None:
    """A state from before: no desired_status, Spot recorded as not preemptible, the boot disk made with the old
    pd-standard default. None of it is a change, and nothing is replaced."""
    config = small_config("web", scheduling=[{"provisioning_model": "SPOT"}])
    old = desired(config, ZONE)
    old.pop("desired_status")
    old["scheduling"] = [{**old["scheduling"][0], "preemptible": False}]
    old["boot_disk"][0]["initialize_params"][0].update(type="pd-standard", size=10)
    old.update(id=f"projects/{PROJECT}/zones/{ZONE}/instances/web", instance_id="1", status="RUNNING")
    old["network_interface"] = [{"network": "default", "subnetwork": "default", "network_ip": "10.0.0.2",
                                 "access_config": [{"nat_ip": "203.0.113.1", "network_tier": "PREMIUM"}]}]
    answer = plan_one(PlanRequest(ADDR, TYPE, config, recorded(ADDR, old["id"], old)), None)
    assert answer.requires_replace == ()
    assert "desired_status" not in answer.planned
    assert answer.planned["boot_disk"][0]["initialize_params"][0]["type"] == "pd-standard"


def test_create_waits_for_an_instance_still_staging_after_its_operation() -> None:
    with _emulator() as emulator:
        emulator.set_knobs(staging_after_done=100.0)  # 0.2 s of STAGING after the insert is DONE
        journal = RecordingJournal(Action.CREATE)

        async def scenario() -> str:
            provider = make_provider(emulator, retry=RetryPolicy(base=0.001, cap=0.01, status_poll=0.02))
            try:
                answer = await provider.apply(create_request(ADDR, small_config("web")), journal)
            finally:
                await provider.close()
            return str(answer.attributes["status"])

        assert run(scenario()) == "RUNNING"
        assert "web is STAGING" in journal.phases
        assert emulator.calls["compute.instances.get"] >= 2
