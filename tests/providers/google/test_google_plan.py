"""Offline behaviour of the google provider: planning (defaults, UNKNOWN, replacement with reasons, zone
fallbacks), prices from the dated table, credentials and endpoint handling, and lazy construction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gce_support import TYPE, gpu_config, recorded, small_config
from google.auth.credentials import AnonymousCredentials

from providers.base import PlanRequest, ProviderConfig
from providers.google import GoogleProvider, create_provider
from providers.google.api import api_endpoint, load_credentials
from providers.google.attributes import desired, image_path, parse_id
from providers.google.emulator_resources import build_instance
from providers.google.prices import table
from providers.google.provider import recordable
from reconciler.errors import ProviderError
from reconciler.values import UNKNOWN

ADDR = "google_compute_instance.gpu"


def _provider(**settings: Any) -> GoogleProvider:
    provider = create_provider(ProviderConfig("google", {"project": "p", **settings}, "lin", Path(".")))
    assert isinstance(provider, GoogleProvider)
    return provider


def _as_created(config: dict[str, Any], zone: str) -> dict[str, Any]:
    """Attributes as apply would record them, from the instance the emulator builds for this config."""
    from providers.google.attributes import insert_body, observed

    want = desired(config, zone)
    instance, _ = build_instance("p", zone, insert_body(want, "p", zone, {}), instance_id="42", created="now",
                                 network_ip="10.0.0.2", nat_ip=lambda: "203.0.113.9")
    instance["status"] = "RUNNING"
    return observed("p", instance, want)


def test_create_plan_fills_defaults_and_leaves_computed_unknown() -> None:
    config = small_config("web")
    [plan] = _provider().plan([PlanRequest("google_compute_instance.web", TYPE, config, None)])
    p = plan.planned
    assert p["zone"] == "europe-west4-a" and p["machine_type"] == "e2-small"
    assert p["id"] is UNKNOWN and p["instance_id"] is UNKNOWN and p["status"] is UNKNOWN
    assert p["network_interface"][0]["network_ip"] is UNKNOWN
    assert p["network_interface"][0]["access_config"][0]["nat_ip"] is UNKNOWN
    assert p["boot_disk"][0]["initialize_params"][0]["type"] == "pd-balanced"  # the E2 series' default
    assert p["scheduling"] == [{"on_host_maintenance": "MIGRATE", "automatic_restart": True, "preemptible": False,
                                "provisioning_model": "STANDARD"}]
    assert p["labels"] == {} and plan.requires_replace == ()


def test_gpu_and_spot_instances_default_to_terminate_on_maintenance() -> None:
    gpu = desired({**gpu_config(), "scheduling": []}, "us-central1-a")
    spot = desired(small_config("s", scheduling=[{"provisioning_model": "SPOT"}]), "europe-west4-a")
    assert gpu["scheduling"][0]["on_host_maintenance"] == "TERMINATE"
    assert spot["scheduling"][0] == {"on_host_maintenance": "TERMINATE", "automatic_restart": False,
                                     "preemptible": True, "provisioning_model": "SPOT"}


def test_unchanged_config_plans_exactly_the_record() -> None:
    config = gpu_config()
    attrs = _as_created(config, "us-central1-a")
    prior = recorded(ADDR, attrs["id"], attrs)
    [plan] = _provider().plan([PlanRequest(ADDR, TYPE, config, prior)])
    assert plan.planned == attrs and plan.requires_replace == ()


@pytest.mark.parametrize(("change", "attribute"), [
    ({"machine_type": "g2-standard-8"}, "machine_type"),
    ({"guest_accelerator": [{"type": "nvidia-l4", "count": 2}]}, "guest_accelerator"),
    ({"boot_disk": [{"initialize_params": [{"image": "debian-cloud/debian-13", "size": 50, "type": "pd-balanced"}]}]},
     "boot_disk"),
    ({"scheduling": [{"on_host_maintenance": "TERMINATE", "provisioning_model": "SPOT"}]}, "scheduling"),
    ({"network_interface": [{"network": "private", "access_config": [{}]}]}, "network_interface"),
    ({"zone": "us-central1-b"}, "zone"),
])
def test_immutable_changes_replace_with_a_reason(change: dict[str, Any], attribute: str) -> None:
    attrs = _as_created(gpu_config(), "us-central1-a")
    [plan] = _provider().plan([PlanRequest(ADDR, TYPE, gpu_config(**change), recorded(ADDR, attrs["id"], attrs))])
    assert attribute in plan.requires_replace
    assert any(n.startswith(f"{attribute}:") for n in plan.notes)
    assert plan.planned["network_interface"][0]["network_ip"] is UNKNOWN  # a new machine gets a new address


def test_labels_metadata_tags_and_zones_change_in_place() -> None:
    attrs = _as_created(gpu_config(), "us-central1-a")
    config = gpu_config(labels={"role": "trainer"}, metadata={"k": "v"}, tags=["gpu"],
                        zones=["us-central1-b"])
    [plan] = _provider().plan([PlanRequest(ADDR, TYPE, config, recorded(ADDR, attrs["id"], attrs))])
    assert plan.requires_replace == ()
    assert plan.planned["zone"] == "us-central1-a"  # still one of the allowed places
    assert plan.planned["network_interface"] == attrs["network_interface"]


def test_zone_fallbacks_keep_the_landed_zone_and_replace_when_it_is_no_longer_allowed() -> None:
    config = gpu_config(zones=["us-central1-b", "us-central1-c"])
    del config["zone"]
    landed = _as_created(gpu_config(), "us-central1-b")
    prior = recorded(ADDR, landed["id"], landed)
    [stay] = _provider().plan([PlanRequest(ADDR, TYPE, config, prior)])
    assert stay.planned["zone"] == "us-central1-b" and "zone" not in stay.requires_replace
    moved = {**config, "zones": ["us-central1-c", "us-central1-f"]}
    [move] = _provider().plan([PlanRequest(ADDR, TYPE, moved, prior)])
    assert "zone" in move.requires_replace and move.planned["zone"] is UNKNOWN
    assert any("first of us-central1-c, us-central1-f" in n for n in move.notes)


def test_explicit_accelerators_equal_to_the_machine_types_own_are_no_replacement() -> None:
    listed, implied = gpu_config(), gpu_config(guest_accelerator=[])
    attrs = _as_created(listed, "us-central1-a")
    [plan] = _provider().plan([PlanRequest(ADDR, TYPE, implied, recorded(ADDR, attrs["id"], attrs))])
    assert plan.requires_replace == () and plan.planned["guest_accelerator"] == []
    # the API reports a G2 type's own L4 either way; the record keeps the form the configuration uses
    implied_attrs = _as_created(implied, "us-central1-a")
    assert implied_attrs["guest_accelerator"] == [] and attrs["guest_accelerator"] == listed["guest_accelerator"]
    [same] = _provider().plan([PlanRequest(ADDR, TYPE, implied, recorded(ADDR, implied_attrs["id"], implied_attrs))])
    assert same.planned == implied_attrs


def test_unknown_values_plan_without_failing() -> None:
    config = {**gpu_config(), "machine_type": UNKNOWN, "labels": UNKNOWN, "zone": UNKNOWN}
    [plan] = _provider().plan([PlanRequest(ADDR, TYPE, config, None)])
    assert plan.planned["machine_type"] is UNKNOWN and plan.planned["zone"] is UNKNOWN


def test_provider_zone_setting_is_the_default() -> None:
    config = small_config("web")
    del config["zone"]
    [plan] = _provider(zone="asia-southeast1-b").plan([PlanRequest("a.b", TYPE, config, None)])
    assert plan.planned["zone"] == "asia-southeast1-b"
    [nowhere] = _provider().plan([PlanRequest("a.b", TYPE, config, None)])
    assert any("no zone" in n for n in nowhere.notes)


def test_price_adds_attached_gpus_but_not_those_a_machine_type_brings() -> None:
    data = table()
    region = data["regions"]["us-central1"]
    hours = data["hours_per_month"]
    provider = _provider()
    g2 = provider.price(TYPE, desired(gpu_config(), "us-central1-a"))
    assert g2 is not None and g2.currency == "USD" and data["date"] in g2.source
    assert g2.monthly == round(region["machine_types"]["g2-standard-4"]["hourly"] * hours, 2)
    n1 = provider.price(TYPE, desired(small_config("t", machine_type="n1-standard-4", zone="us-central1-b",
                                                   guest_accelerator=[{"type": "nvidia-tesla-t4", "count": 2}]),
                                      "us-central1-b"))
    expected = (region["machine_types"]["n1-standard-4"]["hourly"] + 2 * region["gpus"]["nvidia-tesla-t4"]) * hours
    assert n1 is not None and n1.monthly == round(expected, 2)
    assert provider.price(TYPE, desired(small_config("x", zone="southamerica-east1-a"), "southamerica-east1-a")) \
        is None
    assert provider.price(TYPE, {**desired(small_config("x"), "x"), "machine_type": UNKNOWN}) is None


def test_price_table_is_dated_and_names_its_source() -> None:
    data = json.loads((Path(__file__).parents[3] / "providers/google/prices.json").read_text())
    assert data["date"] and data["source"].startswith("https://cloud.google.com/")
    assert data["hours_per_month"] == 730
    for region in ("us-central1", "europe-west4"):
        types = data["regions"][region]["machine_types"]
        assert any(t.startswith(p) for t in types for p in ("e2-", "n2-standard-", "g2-standard-", "a2-highgpu-"))
        assert {"nvidia-l4", "nvidia-tesla-t4", "nvidia-tesla-a100"} <= set(data["regions"][region]["gpus"])


def test_constructing_the_provider_reads_no_credentials(tmp_path: Path) -> None:
    provider = _provider(credentials=str(tmp_path / "missing.json"))
    assert {"id", "instance_id", "status"} <= provider.types()[TYPE].computed
    with pytest.raises(ProviderError) as err:
        _ = provider.api.project  # the first real use loads them
    assert "cannot load credentials" in err.value.message


def _service_account_key() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "from-key", "private_key_id": "1", "private_key": pem,
            "client_email": "sa@from-key.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token"}


def test_credentials_from_content_file_environment_or_anonymous(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    key = _service_account_key()
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    creds, project = load_credentials({"credentials": json.dumps(key)})
    assert project == "from-key" and getattr(creds, "service_account_email", "") == key["client_email"]
    _, project = load_credentials({"credentials": str(path)})
    assert project == "from-key"
    creds, _ = load_credentials({"endpoint": "http://127.0.0.1:9"})
    assert isinstance(creds, AnonymousCredentials)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    _, project = load_credentials({})
    assert project == "from-key"
    provider = create_provider(ProviderConfig("google", {"credentials": str(path)}, "lin", Path(".")))
    assert isinstance(provider, GoogleProvider) and provider.api.project == "from-key"


def test_endpoint_forms_and_identifier_forms() -> None:
    assert api_endpoint("https://www.googleapis.com/compute/v1/") == "https://www.googleapis.com"
    assert api_endpoint("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert parse_id("europe-west4-a/gpu") == (None, "europe-west4-a", "gpu")
    assert parse_id("projects/p/zones/z-a/instances/n") == ("p", "z-a", "n")
    assert image_path("debian-cloud/debian-12", "p") == "projects/debian-cloud/global/images/family/debian-12"
    assert image_path("projects/x/global/images/img", "p") == "projects/x/global/images/img"
    assert image_path("global/images/family/mine", "p") == "projects/p/global/images/family/mine"


def test_recordable_replaces_unknown_everywhere() -> None:
    assert recordable({"a": [UNKNOWN, {"b": UNKNOWN}], "c": 1}) == {"a": [None, {"b": None}], "c": 1}


def test_import_construct_and_plan_load_no_sdk() -> None:
    import subprocess
    import sys

    script = ("import sys; from pathlib import Path; from providers.base import ProviderConfig, PlanRequest; "
              "from providers.google import create_provider; "
              "p = create_provider(ProviderConfig('google', {'project': 'p'}, 'l', Path('.'))); "
              "p.plan([PlanRequest('a.b', 'google_compute_instance', {'name': 'x', 'machine_type': 'e2-small', "
              "'zone': 'europe-west4-a'}, None)]); "
              "print(sorted(m for m in sys.modules if m.startswith(('google.cloud', 'google.auth', 'requests'))))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[3])
    assert out.stdout.strip() == "[]"
