"""Refresh and import of google_compute_instance against the emulator: found, gone and adopted by the
ownership label filter, paging at 500, the request budget, and the accelerator check per zone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gce_support import (
    LINEAGE,
    PROJECT,
    TYPE,
    RecordingJournal,
    create_request,
    gpu_config,
    make_provider,
    recorded,
    run,
    seed,
    small_config,
)

from providers.base import ImportRequest, PlanRequest, RefreshRequest, RefreshResponse, ownership_labels
from providers.google.emulator import Emulator, start_emulator
from providers.google.refresh import ownership_filter
from reconciler.actions import Action
from reconciler.errors import ProviderError

AGGREGATED = "compute.instances.aggregatedList"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(time_scale=0.002) as emu:
        yield emu


def _refresh(emulator: Emulator, request: RefreshRequest, lineage: str = LINEAGE) -> RefreshResponse:
    async def scenario() -> RefreshResponse:
        provider = make_provider(emulator, lineage)
        try:
            return await provider.refresh(request)
        finally:
            await provider.close()

    return run(scenario())


def test_refresh_reports_what_apply_recorded_and_notices_deletion(emulator: Emulator) -> None:
    address = "google_compute_instance.web"

    async def create() -> Any:
        provider = make_provider(emulator)
        try:
            return await provider.apply(create_request(address, small_config("web", labels={"a": "b"})),
                                        RecordingJournal(Action.CREATE))
        finally:
            await provider.close()

    created = run(create())
    rec = recorded(address, created.id, created.attributes, created.private)
    emulator.reset_counts()
    answer = _refresh(emulator, RefreshRequest((rec,), ((address, TYPE),)))
    assert answer.found[address].attributes == created.attributes  # no drift right after apply
    assert answer.found[address].id == created.id and not answer.gone and not answer.adopted
    assert emulator.calls == {AGGREGATED: 1}
    emulator.model.delete(PROJECT, "europe-west4-a", "web", None)
    emulator.model.settle()
    answer = _refresh(emulator, RefreshRequest((rec,), ((address, TYPE),)))
    assert answer.gone == {address} and not answer.found


def test_unrecorded_instance_with_our_labels_is_adopted_and_others_are_not(emulator: Emulator) -> None:
    seed(emulator, "lost", "us-east1-b", ownership_labels(LINEAGE, "google_compute_instance.lost"))
    seed(emulator, "stranger", "us-east1-b", ownership_labels("another-lineage", "google_compute_instance.stranger"))
    seed(emulator, "plain", "us-east1-b", {})
    wanted = (("google_compute_instance.lost", TYPE), ("google_compute_instance.stranger", TYPE),
              ("google_compute_instance.plain", TYPE))
    answer = _refresh(emulator, RefreshRequest((), wanted))
    assert set(answer.adopted) == {"google_compute_instance.lost"}
    adopted = answer.adopted["google_compute_instance.lost"]
    assert adopted.id == f"projects/{PROJECT}/zones/us-east1-b/instances/lost"
    assert adopted.attributes["zone"] == "us-east1-b" and adopted.attributes["labels"] == {}
    assert adopted.attributes["boot_disk"][0]["initialize_params"][0]["image"] is None  # not reported by the API


def test_adopted_instance_plans_without_replacement(emulator: Emulator) -> None:
    address = "google_compute_instance.lost"
    config = small_config("lost", machine_type="e2-micro", zone="us-east1-b",
                          network_interface=[{"network": "default"}])
    seed(emulator, "lost", "us-east1-b", ownership_labels(LINEAGE, address))
    adopted = _refresh(emulator, RefreshRequest((), ((address, TYPE),))).adopted[address]

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            rec = recorded(address, adopted.id, adopted.attributes, adopted.private)
            [plan] = provider.plan([PlanRequest(address, TYPE, config, rec)])
            return plan
        finally:
            await provider.close()

    plan = run(scenario())
    assert plan.requires_replace == ()
    assert any("does not report the image" in n for n in plan.notes)


def test_label_filter_and_paging_of_500(emulator: Emulator) -> None:
    zones = ["us-central1-a", "europe-west4-b", "asia-southeast1-c"]
    ours = []
    for i in range(1100):
        address = f"google_compute_instance.n[{i}]"
        seed(emulator, f"n{i}", zones[i % 3], ownership_labels(LINEAGE, address))
        ours.append(recorded(address, f"projects/{PROJECT}/zones/{zones[i % 3]}/instances/n{i}", {}))
    for i in range(150):
        seed(emulator, f"other{i}", zones[i % 3], ownership_labels("someone-else", f"x.o[{i}]"))
    answer = _refresh(emulator, RefreshRequest(tuple(ours), ()))
    assert len(answer.found) == 1100 and not answer.gone
    assert emulator.calls == {AGGREGATED: 3}  # 500 + 500 + 100, the 150 foreign ones filtered out server-side


def test_refresh_of_1000_instances_takes_at_most_4_requests(emulator: Emulator) -> None:
    recs = []
    for i in range(1000):
        address = f"google_compute_instance.g[{i}]"
        zone = ("us-central1-a", "europe-west4-b")[i % 2]
        machine = "g2-standard-4" if i % 10 == 0 else "e2-small"  # every tenth one a GPU node
        seed(emulator, f"g{i}", zone, ownership_labels(LINEAGE, address), machine=machine)
        recs.append(recorded(address, f"projects/{PROJECT}/zones/{zone}/instances/g{i}", {}))
    answer = _refresh(emulator, RefreshRequest(tuple(recs), ()))
    assert len(answer.found) == 1000 and answer.warnings == ()
    assert sum(1 for f in answer.found.values() if f.attributes["guest_accelerator"]) == 100
    assert emulator.calls == {AGGREGATED: 2, "compute.acceleratorTypes.aggregatedList": 1}
    assert emulator.request_total <= 4


def test_recorded_instance_without_our_labels_is_looked_up_by_name(emulator: Emulator) -> None:
    seed(emulator, "legacy", "europe-west4-a", {"team": "ops"})
    rec = recorded("google_compute_instance.legacy", f"projects/{PROJECT}/zones/europe-west4-a/instances/legacy", {})
    answer = _refresh(emulator, RefreshRequest((rec,), ()))
    assert answer.found["google_compute_instance.legacy"].attributes["labels"] == {"team": "ops"}
    assert emulator.calls == {AGGREGATED: 1, "compute.instances.get": 1}


def test_accelerator_not_offered_in_its_zone_is_a_warning_checked_once(emulator: Emulator) -> None:
    address = "google_compute_instance.gpu"

    async def scenario() -> tuple[RefreshResponse, RefreshResponse, dict[str, int]]:
        provider = make_provider(emulator)
        try:
            created = await provider.apply(create_request(address, gpu_config()), RecordingJournal(Action.CREATE))
            emulator.set_knobs(withdrawn=[("us-central1-a", "nvidia-l4")])
            request = RefreshRequest((recorded(address, created.id, created.attributes),), ())
            emulator.reset_counts()
            first = await provider.refresh(request)
            second = await provider.refresh(request)
            return first, second, emulator.calls
        finally:
            await provider.close()

    first, second, calls = run(scenario())
    assert len(first.warnings) == 1
    assert "nvidia-l4" in first.warnings[0] and "us-central1-a" in first.warnings[0] and address in first.warnings[0]
    assert second.warnings == first.warnings
    assert calls == {AGGREGATED: 2, "compute.acceleratorTypes.aggregatedList": 1}


def test_offered_accelerator_gives_no_warning(emulator: Emulator) -> None:
    address = "google_compute_instance.gpu"

    async def scenario() -> RefreshResponse:
        provider = make_provider(emulator)
        try:
            created = await provider.apply(create_request(address, gpu_config()), RecordingJournal(Action.CREATE))
            return await provider.refresh(RefreshRequest((recorded(address, created.id, created.attributes),), ()))
        finally:
            await provider.close()

    assert run(scenario()).warnings == ()


def test_import_by_zone_and_name(emulator: Emulator) -> None:
    seed(emulator, "db", "europe-west4-c", {"team": "data"}, machine="n2-standard-4")

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            found = await provider.import_resource(ImportRequest("google_compute_instance.db", TYPE,
                                                                 "europe-west4-c/db"))
            with pytest.raises(ProviderError) as missing:
                await provider.import_resource(ImportRequest("google_compute_instance.x", TYPE, "europe-west4-c/x"))
            with pytest.raises(ProviderError) as malformed:
                await provider.import_resource(ImportRequest("google_compute_instance.x", TYPE, "just-a-name"))
            return found, missing.value, malformed.value
        finally:
            await provider.close()

    found, missing, malformed = run(scenario())
    assert found.id == f"projects/{PROJECT}/zones/europe-west4-c/instances/db"
    assert found.attributes["machine_type"] == "n2-standard-4" and found.attributes["labels"] == {"team": "data"}
    assert "no instance x in zone europe-west4-c" in missing.message
    assert "zone/name" in malformed.message


def test_ownership_filter_uses_the_api_syntax() -> None:
    assert ownership_filter("abc") == '(labels.managed-by = "reconciler") AND (labels.reconciler-lineage = "abc")'
