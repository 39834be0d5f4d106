"""The google provider's offline checks (rules.py over the dated catalogue): each rule refuses what Compute
Engine refuses, names the attribute (for the file and line) and the allowed choices, accepts what the
API accepts, and skips values not known yet. Plus the image forms and how they resolve, and the series'
default boot disk type."""

from __future__ import annotations

from typing import Any

import pytest
from gce_support import small_config

from providers.google.attributes import default_disk_type, desired
from providers.google.images import ImageRef, Kind, resolve
from providers.google.rules import check_instance
from reconciler.errors import ProviderError
from reconciler.values import UNKNOWN


def config(machine: str, gpus: list[tuple[str, int]] | None = None, **extra: Any) -> dict[str, Any]:
    out = small_config("x", machine_type=machine, zone="europe-west4-a", **extra)
    if gpus:
        out["guest_accelerator"] = [{"type": t, "count": n} for t, n in gpus]
    return out


def problems(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.attribute, f"{p.message} ({p.hint})") for p in check_instance(cfg)]


@pytest.mark.parametrize(("machine", "gpus", "says"), [
    ("n1-standard-1", [("nvidia-tesla-a100", 16)], "n1-standard-1 (N1) cannot take nvidia-tesla-a100: it comes built "
     "into A2 machine types: a2-highgpu-1g (1), a2-highgpu-2g (2), a2-highgpu-4g (4), a2-highgpu-8g (8), "
     "a2-megagpu-16g (16) (N1 takes nvidia-tesla-p100, nvidia-tesla-p4, nvidia-tesla-t4, nvidia-tesla-v100)"),
    ("e2-standard-4", [("nvidia-tesla-t4", 3)], "e2-standard-4 (E2) takes no GPUs (GPUs attach to N1"),
    ("n2-standard-2", [("nvidia-l4", 1)], "n2-standard-2 (N2) takes no GPUs"),
    ("g2-standard-8", [("nvidia-l4", 8)], "g2-standard-8 comes with 1 x nvidia-l4 built in and takes no other GPUs "
     "(asked for 8 x nvidia-l4) (leave guest_accelerator out, or for 8 x nvidia-l4 choose one of g2-standard-4 (1)"),
    ("a2-highgpu-1g", [("nvidia-tesla-a100", 2)], "choose one of a2-highgpu-1g (1), a2-highgpu-2g (2)"),
    ("a3-highgpu-8g", [("nvidia-tesla-t4", 1)], "a3-highgpu-8g comes with 8 x nvidia-h100-80gb built in"),
    ("n1-standard-4", [("nvidia-tesla-t4", 3)], "3 x nvidia-tesla-t4 is not allowed on N1 (allowed counts: 1, 2, 4)"),
    ("n1-standard-32", [("nvidia-tesla-v100", 1)], "n1-standard-32 has 32 vCPUs, too many for 1 x nvidia-tesla-v100 "
     "(at most 12) (with 32 vCPUs take 4 or 8 x nvidia-tesla-v100)"),
    ("n1-standard-4", [("nvidia-tesla-k80", 1)], "nvidia-tesla-k80 is no longer offered (unavailable after "
     "2024-05-01) (use nvidia-tesla-t4)"),
    ("n1-standard-4", [("nvidia-tesla-t4", 1), ("nvidia-tesla-p4", 1)], "an instance takes one accelerator type"),
    ("n1-standard-4", [("nvidia-b200", 1)], 'unknown accelerator type "nvidia-b200"'),
    ("f1-micro", [("nvidia-tesla-t4", 1)], "f1-micro (N1) takes no GPUs"),
])
def test_gpu_rules_refuse_with_the_allowed_choices(machine: str, gpus: list[tuple[str, int]], says: str) -> None:
    [(attribute, message)] = problems(config(machine, gpus))
    assert attribute == "guest_accelerator"
    assert says in message


@pytest.mark.parametrize(("machine", "gpus"), [
    ("n1-standard-8", [("nvidia-tesla-t4", 1)]), ("n1-standard-96", [("nvidia-tesla-t4", 4)]),
    ("n1-highmem-8", [("nvidia-tesla-v100", 1)]), ("n1-standard-16", [("nvidia-tesla-p100", 1)]),
    ("g2-standard-8", [("nvidia-l4", 1)]), ("g2-standard-24", [("nvidia-l4", 2)]), ("g2-standard-8", None),
    ("a2-highgpu-8g", [("nvidia-tesla-a100", 8)]), ("a2-ultragpu-1g", None), ("a3-highgpu-8g", None),
    ("a3-highgpu-2g", [("nvidia-h100-80gb", 2)]), ("e2-standard-4", None), ("n2-custom-4-8192", None),
])
def test_gpu_rules_accept_what_the_api_accepts(machine: str, gpus: list[tuple[str, int]] | None) -> None:
    cfg = config(machine, gpus, scheduling=[{"on_host_maintenance": "TERMINATE"}])
    cfg["boot_disk"] = [{"initialize_params": [{"image": "debian-cloud/debian-12"}]}]
    assert problems(cfg) == []


def test_gpu_must_be_offered_in_every_zone_tried() -> None:
    cfg = config("n1-standard-4", [("nvidia-tesla-p100", 1)])
    cfg["zones"] = ["europe-west4-a", "europe-west4-b"]
    [(attribute, message)] = problems(cfg)
    assert attribute == "guest_accelerator"
    assert message.startswith("nvidia-tesla-p100 is not offered in zone europe-west4-b (zones offering it: ")


def test_unknown_machine_type_names_close_matches() -> None:
    [(attribute, message)] = problems(config("n2-standrd-4"))
    assert attribute == "machine_type" and "n2-standard-4" in message


@pytest.mark.parametrize(("machine", "disk", "ok"), [
    ("c3-standard-4", "pd-standard", False), ("n4-standard-2", "pd-balanced", False), ("g2-standard-4", "pd-standard",
                                                                                         False),
    ("c3-standard-4", "hyperdisk-balanced", True), ("e2-small", "pd-standard", True), ("n4-standard-2",
                                                                                        "hyperdisk-balanced", True),
])
def test_boot_disk_type_must_suit_the_series(machine: str, disk: str, ok: bool) -> None:
    cfg = config(machine, boot_disk=[{"initialize_params": [{"image": "debian-cloud/debian-12", "type": disk}]}])
    found = problems(cfg)
    assert (found == []) is ok
    if not ok:
        [(attribute, message)] = found
        assert attribute == "boot_disk" and f"boot disk type {disk} is not offered for {machine}" in message
        assert "choose one of" in message


def test_default_boot_disk_is_the_series_default_not_pd_standard() -> None:
    assert default_disk_type("e2-small") == "pd-balanced"
    assert default_disk_type("c3-standard-4") == "hyperdisk-balanced"
    assert default_disk_type("n4-standard-2") == "hyperdisk-balanced"
    assert default_disk_type("g2-standard-8") == "pd-balanced"
    assert default_disk_type(UNKNOWN) is UNKNOWN
    planned = desired(config("n4-standard-2"), "europe-west4-a")
    assert planned["boot_disk"][0]["initialize_params"][0]["type"] == "hyperdisk-balanced"


@pytest.mark.parametrize(("image", "ref"), [
    ("debian-cloud/debian-12-bookworm-v20260101",
     ImageRef("debian-cloud", "debian-12-bookworm-v20260101", Kind.EITHER)),
    ("projects/debian-cloud/global/images/family/debian-12", ImageRef("debian-cloud", "debian-12", Kind.FAMILY)),
    ("projects/debian-cloud/global/images/debian-12-bookworm-v20260101",
     ImageRef("debian-cloud", "debian-12-bookworm-v20260101", Kind.IMAGE)),
    ("https://www.googleapis.com/compute/v1/projects/p/global/images/x", ImageRef("p", "x", Kind.IMAGE)),
    ("global/images/family/mine", ImageRef("", "mine", Kind.FAMILY)),
    ("family/debian-12", ImageRef(None, "debian-12", Kind.FAMILY)),
    ("debian-12", ImageRef(None, "debian-12", Kind.EITHER)),
    ("a/b/c", None), ("debian-cloud/", None), ("", None),
])
def test_image_forms_follow_terraform(image: str, ref: ImageRef | None) -> None:
    assert ImageRef.parse(image) == ref


def test_image_name_resolves_as_an_image_and_a_family_as_a_family() -> None:
    images = {("debian-cloud", Kind.IMAGE, "debian-12-bookworm-v20260101"), ("debian-cloud", Kind.FAMILY, "debian-12")}

    def exists(project: str, kind: Kind, name: str) -> bool:
        return (project, kind, name) in images

    assert resolve("debian-cloud/debian-12-bookworm-v20260101", "p", exists) == \
        "projects/debian-cloud/global/images/debian-12-bookworm-v20260101"
    assert resolve("debian-cloud/debian-12", "p", exists) == "projects/debian-cloud/global/images/family/debian-12"
    assert resolve("debian-12", "p", exists) == "projects/debian-cloud/global/images/family/debian-12"
    with pytest.raises(ProviderError, match='could not find image or family "debian-cloud/debian-99"'):
        resolve("debian-cloud/debian-99", "p", exists)


def test_image_with_no_accepted_form_is_refused() -> None:
    cfg = config("e2-small", boot_disk=[{"initialize_params": [{"image": "a/b/c"}]}])
    [(attribute, message)] = problems(cfg)
    assert attribute == "boot_disk" and 'image "a/b/c" has none of the forms' in message


def test_labels_and_metadata_rules() -> None:
    many = {f"k{i}": "v" for i in range(62)}
    [(attribute, message)] = problems(config("e2-small", labels=many))
    assert attribute == "labels" and "62 labels are too many" in message and "keep at most 61" in message
    [(attribute, message)] = problems(config("e2-small", labels={"managed-by": "me"}))
    assert attribute == "labels" and "reserved" in message
    [(attribute, message)] = problems(config("e2-small", metadata={"bad key!": "x"}))
    assert attribute == "metadata" and 'metadata key "bad key!" is not allowed' in message
    [(attribute, message)] = problems(config("e2-small", metadata={"big": "x" * (256 * 1024 + 1)}))
    assert attribute == "metadata" and "262145 bytes" in message
    assert problems(config("e2-small", labels={f"k{i}": "v" for i in range(61)}, metadata={"ssh-keys": "a"})) == []


@pytest.mark.parametrize(("scheduling", "says"), [
    ({"preemptible": True, "provisioning_model": "STANDARD"}, "cannot have provisioning_model STANDARD"),
    ({"provisioning_model": "SPOT", "automatic_restart": True}, "cannot restart automatically"),
    ({"preemptible": True, "on_host_maintenance": "MIGRATE"}, "cannot live-migrate"),
])
def test_spot_and_preemptible_rules(scheduling: dict[str, Any], says: str) -> None:
    [(attribute, message)] = problems(config("e2-small", scheduling=[scheduling]))
    assert attribute == "scheduling" and says in message


def test_values_not_known_yet_are_skipped() -> None:
    cfg = config(UNKNOWN, [("nvidia-tesla-a100", 16)])  # type: ignore[arg-type]
    cfg["labels"] = UNKNOWN
    cfg["metadata"] = UNKNOWN
    assert problems(cfg) == []
    cfg = config("n1-standard-1")
    cfg["guest_accelerator"] = [{"type": UNKNOWN, "count": 16}]
    assert problems(cfg) == []
