"""The google provider's apply against the emulator, through the real google-cloud-compute REST client:
GPU node on/off/on, zone fallback on stockouts, quota failures, a crash between insert and record,
in-place updates, and convergence under rate limits and server errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gce_support import (
    LINEAGE,
    PROJECT,
    TYPE,
    Crash,
    RecordingJournal,
    create_request,
    gpu_config,
    make_provider,
    recorded,
    run,
    seed,
    small_config,
)

from providers.base import ApplyRequest, PlanRequest, ownership_labels
from providers.google.emulator import Emulator, start_emulator
from providers.google.prices import monthly_price
from reconciler.actions import Action
from reconciler.errors import ProviderError

ADDR = "google_compute_instance.gpu"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(time_scale=0.002) as emu:
        yield emu


def _names(emulator: Emulator) -> list[tuple[str, str]]:
    return [(i["zone"].rsplit("/", 1)[-1], i["name"]) for i in emulator.instances(PROJECT)]


def test_gpu_node_on_off_on_keeps_name_and_labels_and_is_priced_each_time(emulator: Emulator) -> None:
    config = gpu_config()
    expected = monthly_price("g2-standard-4", "us-central1", {"nvidia-l4": 1})
    assert expected is not None and expected.monthly > 0

    async def scenario() -> list[dict[str, Any]]:
        provider = make_provider(emulator)
        seen = []
        try:
            for _round in range(2):
                [plan] = provider.plan([PlanRequest(ADDR, TYPE, config, None)])
                planned_price = provider.price(TYPE, plan.planned)
                created = await provider.apply(create_request(ADDR, config), RecordingJournal(Action.CREATE))
                live = emulator.instances(PROJECT)
                assert [i["name"] for i in live] == ["gpu-1"]
                seen.append({"attrs": created.attributes, "labels": live[0]["labels"], "id": created.id,
                             "price": provider.price(TYPE, created.attributes), "planned_price": planned_price})
                prior = recorded(ADDR, created.id, created.attributes, created.private)
                gone = await provider.apply(ApplyRequest(ADDR, TYPE, Action.DELETE, created.attributes, prior),
                                            RecordingJournal(Action.DELETE))
                assert gone.id is None
                assert emulator.instances(PROJECT) == []
        finally:
            await provider.close()
        return seen

    first, second = run(scenario())
    assert first["id"] == second["id"] == f"projects/{PROJECT}/zones/us-central1-a/instances/gpu-1"
    assert first["labels"] == second["labels"] == {"role": "gpu", **ownership_labels(LINEAGE, ADDR)}
    assert first["attrs"]["labels"] == {"role": "gpu"}  # ownership labels never show in attributes
    assert first["attrs"]["instance_id"] != second["attrs"]["instance_id"]  # a new machine each time
    for round_ in (first, second):
        assert round_["price"] == round_["planned_price"] == expected
        assert round_["attrs"]["status"] == "RUNNING"
        assert round_["attrs"]["guest_accelerator"] == [{"type": "nvidia-l4", "count": 1}]
        assert round_["attrs"]["network_interface"][0]["access_config"][0]["nat_ip"].startswith("127.2.")


@pytest.mark.parametrize("at_once", [True, False], ids=["answered-at-once", "inside-operation"])
def test_stockout_moves_on_to_the_next_zone(emulator: Emulator, at_once: bool) -> None:
    emulator.set_knobs(stockouts=[{"zone": "us-central1-a", "accelerator": "nvidia-l4", "at_once": at_once}])
    config = gpu_config(zone=None, zones=["us-central1-a", "us-central1-b"])
    del config["zone"]
    journal = RecordingJournal(Action.CREATE)

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            [plan] = provider.plan([PlanRequest(ADDR, TYPE, config, None)])
            assert any("first of us-central1-a, us-central1-b" in n for n in plan.notes)
            return await provider.apply(create_request(ADDR, config), journal)
        finally:
            await provider.close()

    created = run(scenario())
    assert created.attributes["zone"] == "us-central1-b"
    assert created.private["zone"] == "us-central1-b"
    assert created.attributes["zones"] == ["us-central1-a", "us-central1-b"]
    assert _names(emulator) == [("us-central1-b", "gpu-1")]
    assert journal.pending["zone"] == "us-central1-b"
    assert any("no capacity in us-central1-a" in p for p in journal.phases)
    assert emulator.calls["compute.instances.insert"] == 2


def test_every_zone_out_of_capacity_is_a_retryable_error_naming_them(emulator: Emulator) -> None:
    emulator.set_knobs(stockouts=[{"zone": "us-central1-a"}, {"zone": "us-central1-b", "at_once": True}])
    config = gpu_config(zones=["us-central1-b"])

    async def scenario() -> None:
        provider = make_provider(emulator)
        try:
            await provider.apply(create_request(ADDR, config), RecordingJournal(Action.CREATE))
        finally:
            await provider.close()

    with pytest.raises(ProviderError) as err:
        run(scenario())
    assert err.value.code == "ZONE_RESOURCE_POOL_EXHAUSTED" and err.value.retryable
    assert "us-central1-a, us-central1-b" in err.value.message and "nvidia-l4" in err.value.message
    assert emulator.instances(PROJECT) == []


@pytest.mark.parametrize("in_operation", [True, False], ids=["inside-operation", "answered-at-once"])
def test_quota_exceeded_fails_at_once_naming_the_quota(emulator: Emulator, in_operation: bool) -> None:
    emulator.set_knobs(quotas={"GPUS_ALL_REGIONS": 0}, quota_in_operation=in_operation)
    config = gpu_config(zones=["us-central1-b"])

    async def scenario() -> None:
        provider = make_provider(emulator)
        try:
            await provider.apply(create_request(ADDR, config), RecordingJournal(Action.CREATE))
        finally:
            await provider.close()

    with pytest.raises(ProviderError) as err:
        run(scenario())
    assert err.value.code == "QUOTA_EXCEEDED" and not err.value.retryable
    assert "quota GPUS_ALL_REGIONS exceeded" in err.value.message
    assert "GPUS_ALL_REGIONS" in (err.value.hint or "")
    assert emulator.calls["compute.instances.insert"] == 1  # no other zone tried
    assert emulator.instances(PROJECT) == []


def test_crash_between_insert_and_record_then_retry_makes_no_duplicate(emulator: Emulator) -> None:
    config = gpu_config()
    crashed = RecordingJournal(Action.CREATE, crash_on_record=True)

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            with pytest.raises(Crash):
                await provider.apply(create_request(ADDR, config), crashed)
            retry = RecordingJournal(Action.CREATE)
            created = await provider.apply(create_request(ADDR, config, crashed.pending), retry)
            return created, retry
        finally:
            await provider.close()

    created, retry = run(scenario())
    assert crashed.pending["request_id"] and crashed.pending["zone"] == "us-central1-a"
    assert retry.pending["request_id"] == crashed.pending["request_id"]
    assert emulator.calls["compute.instances.insert"] == 2
    live = emulator.instances(PROJECT)
    assert [i["name"] for i in live] == ["gpu-1"]
    assert created.attributes["instance_id"] == live[0]["id"]
    assert retry.recorded[0][0] == created.id


def test_retry_resumes_in_the_zone_the_crashed_attempt_was_trying(emulator: Emulator) -> None:
    emulator.set_knobs(stockouts=[{"zone": "us-central1-a", "at_once": True}])
    config = gpu_config(zones=["us-central1-b", "us-central1-c"])
    crashed = RecordingJournal(Action.CREATE, crash_on_record=True)

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            with pytest.raises(Crash):
                await provider.apply(create_request(ADDR, config), crashed)
            return await provider.apply(create_request(ADDR, config, crashed.pending), RecordingJournal(Action.CREATE))
        finally:
            await provider.close()

    created = run(scenario())
    assert crashed.pending["zone"] == "us-central1-b"
    assert created.attributes["zone"] == "us-central1-b"
    assert _names(emulator) == [("us-central1-b", "gpu-1")]
    # first attempt: a (stockout), b (accepted, then the crash); the retry: b again with the same request id
    assert emulator.calls["compute.instances.insert"] == 3


def test_name_taken_by_an_instance_of_ours_is_claimed_and_by_a_stranger_refused(emulator: Emulator) -> None:
    seed(emulator, "mine", "europe-west4-a", ownership_labels(LINEAGE, "google_compute_instance.mine"))
    seed(emulator, "theirs", "europe-west4-a", {"team": "other"})

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            claimed = await provider.apply(create_request("google_compute_instance.mine", small_config("mine")),
                                           RecordingJournal(Action.CREATE))
            with pytest.raises(ProviderError) as err:
                await provider.apply(create_request("google_compute_instance.theirs", small_config("theirs")),
                                     RecordingJournal(Action.CREATE))
            return claimed, err.value
        finally:
            await provider.close()

    claimed, refused = run(scenario())
    assert claimed.id == f"projects/{PROJECT}/zones/europe-west4-a/instances/mine"
    assert refused.code == "alreadyExists" and "reconciler import" in (refused.hint or "")
    assert len(emulator.instances(PROJECT)) == 2


def test_labels_metadata_and_tags_change_in_place(emulator: Emulator) -> None:
    address = "google_compute_instance.web"
    before = small_config("web", labels={"env": "dev"}, metadata={"a": "1"}, tags=["http"])
    after = small_config("web", labels={"env": "prod", "team": "x"}, metadata={"a": "2", "b": "3"},
                         tags=["http", "https"])

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            created = await provider.apply(create_request(address, before), RecordingJournal(Action.CREATE))
            prior = recorded(address, created.id, created.attributes, created.private)
            [plan] = provider.plan([PlanRequest(address, TYPE, after, prior)])
            assert plan.requires_replace == ()
            updated = await provider.apply(ApplyRequest(address, TYPE, Action.UPDATE, after, prior),
                                           RecordingJournal(Action.UPDATE))
            return created, updated
        finally:
            await provider.close()

    created, updated = run(scenario())
    assert updated.attributes["instance_id"] == created.attributes["instance_id"]
    assert updated.attributes["labels"] == {"env": "prod", "team": "x"}
    assert updated.attributes["metadata"] == {"a": "2", "b": "3"}
    assert updated.attributes["tags"] == ["http", "https"]
    [live] = emulator.instances(PROJECT)
    assert live["labels"] == {"env": "prod", "team": "x", **ownership_labels(LINEAGE, address)}
    for call in ("setLabels", "setMetadata", "setTags"):
        assert emulator.calls[f"compute.instances.{call}"] == 1


def test_delete_of_an_instance_already_gone_succeeds(emulator: Emulator) -> None:
    prior = recorded(ADDR, f"projects/{PROJECT}/zones/us-central1-a/instances/gpu-1", gpu_config())

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            return await provider.apply(ApplyRequest(ADDR, TYPE, Action.DELETE, gpu_config(), prior),
                                        RecordingJournal(Action.DELETE))
        finally:
            await provider.close()

    assert run(scenario()).id is None


def test_rate_limits_and_server_errors_are_retried_until_done(emulator: Emulator) -> None:
    emulator.set_knobs(rate_limit_rate=0.25, error_rate=0.15, seed=7)
    configs = {f"google_compute_instance.n{i}": small_config(f"n{i}") for i in range(4)}

    async def scenario() -> Any:
        provider = make_provider(emulator)
        try:
            created = [await provider.apply(create_request(a, c), RecordingJournal(Action.CREATE))
                       for a, c in configs.items()]
            for address, resp in zip(configs, created, strict=True):
                prior = recorded(address, resp.id, resp.attributes, resp.private)
                await provider.apply(ApplyRequest(address, TYPE, Action.DELETE, resp.attributes, prior),
                                     RecordingJournal(Action.DELETE))
            return created
        finally:
            await provider.close()

    created = run(scenario())
    assert all(c.attributes["status"] == "RUNNING" for c in created)
    assert emulator.instances(PROJECT) == []
    # each create is insert + wait + get and each delete is delete + wait at the least: the rest were retries
    assert emulator.request_total > 4 * 3 + 4 * 2


def test_a_fault_that_does_not_stop_is_a_retryable_provider_error(emulator: Emulator) -> None:
    emulator.set_knobs(error_next=100)

    async def scenario() -> None:
        provider = make_provider(emulator)
        try:
            await provider.apply(create_request(ADDR, gpu_config()), RecordingJournal(Action.CREATE))
        finally:
            await provider.close()

    with pytest.raises(ProviderError) as err:
        run(scenario())
    assert err.value.retryable
    # the first call, resolving "debian-cloud/debian-12" (an image of that name, else the family), is tried
    # the policy's number of attempts
    assert emulator.calls["compute.images.get"] == 8 and "compute.instances.insert" not in emulator.calls


def test_an_operation_that_does_not_finish_ends_in_a_retryable_error_after_bounded_waits(emulator: Emulator) -> None:
    emulator.set_knobs(durations={"insert": 1_000_000.0}, wait_timeout=20.0)  # each wait returns after 0.04 s
    journal = RecordingJournal(Action.CREATE)

    async def scenario() -> None:
        provider = make_provider(emulator, operation_timeout=0.2)
        try:
            await provider.apply(create_request(ADDR, gpu_config()), journal)
        finally:
            await provider.close()

    with pytest.raises(ProviderError) as err:
        run(scenario())
    assert err.value.retryable and "still RUNNING" in err.value.message
    assert emulator.calls["compute.zoneOperations.wait"] >= 2  # several bounded waits, not one endless call
    assert journal.recorded and journal.recorded[0][0].endswith("/instances/gpu-1")  # the id was kept first
