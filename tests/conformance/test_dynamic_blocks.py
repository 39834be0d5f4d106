"""`dynamic` blocks, as Terraform expands them: one block per element of for_each, the iterator's key and
value (named after the block, or `iterator`), nested dynamic blocks, and static blocks of the same type
kept in source order. Checked on the evaluated resource attributes and through `plan --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.evaluator import evaluate
from reconciler.config.loader import load_sources
from reconciler.config.scope import ConfigScope
from reconciler.errors import ConfigError

CONFIG = """
provider "google" {
  project = "p"
  zone    = "europe-west4-a"
}
locals {
  gpus = { "nvidia-l4" = 1 }  # a G2 takes its built-in L4 only (the GCE rules)
  nets = [{ name = "a", public = true }, { name = "b", public = false }]
}
resource "google_compute_instance" "vm" {
  name         = "vm"
  machine_type = "g2-standard-8"
  boot_disk {
    initialize_params {
      image = "debian-12"
    }
  }
  network_interface {
    network = "static"
  }
  dynamic "network_interface" {
    for_each = local.nets
    iterator = nic
    content {
      network = "${nic.value.name}-${nic.key}"
      dynamic "access_config" {
        for_each = nic.value.public ? [1] : []
        content {}
      }
    }
  }
  dynamic "guest_accelerator" {
    for_each = local.gpus
    content {
      type  = guest_accelerator.key
      count = guest_accelerator.value
    }
  }
  scheduling {
    on_host_maintenance = "TERMINATE"
  }
}
"""


def attributes(text: str) -> dict[str, Any]:
    config = load_sources(Path("."), {"main.tf": text})
    locals_: dict[str, Any] = {}
    scope = ConfigScope(Path("."), {}, locals_, {})
    for name, attr in config.decls.locals.items():
        locals_[name] = evaluate(attr.expr, scope)
    decl = config.decls.resources["google_compute_instance.vm"]
    return {k: evaluate(v, scope) for k, v in decl.attributes.items()}


def test_dynamic_blocks_expand_like_terraform() -> None:
    attrs = attributes(CONFIG)
    assert attrs["guest_accelerator"] == [{"type": "nvidia-l4", "count": 1}]
    assert attrs["network_interface"] == [
        {"network": "static"},
        {"network": "a-0", "access_config": [{}]},
        {"network": "b-1", "access_config": []},
    ]


def test_a_dynamic_block_without_content_is_one_line_error() -> None:
    bad = CONFIG.replace("""    content {
      type  = guest_accelerator.key
      count = guest_accelerator.value
    }
""", "")
    with pytest.raises(ConfigError, match='dynamic "guest_accelerator" needs for_each and exactly one content'):
        attributes(bad)


def test_plan_json_carries_the_expanded_blocks(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    proc = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--no-refresh", "--json", "-C", str(tmp_path),
                           "--no-color"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    after = json.loads(proc.stdout)["resource_changes"][0]["change"]["after"]
    assert [g["type"] for g in after["guest_accelerator"]] == ["nvidia-l4"]
    assert [n["network"] for n in after["network_interface"]] == ["static", "a-0", "b-1"]


JSON_CONFIG = {
    "provider": {"google": {"project": "p", "zone": "europe-west4-a"}},
    "locals": {"gpus": {"nvidia-l4": 1}, "nets": [{"name": "a", "public": True},
                                                                   {"name": "b", "public": False}]},
    "resource": {"google_compute_instance": {"vm": {
        "name": "vm", "machine_type": "g2-standard-8",
        "boot_disk": {"initialize_params": {"image": "debian-12"}},
        "network_interface": {"network": "static"},
        "dynamic": {
            "network_interface": {"for_each": "${local.nets}", "iterator": "nic", "content": {
                "network": "${nic.value.name}-${nic.key}",
                "dynamic": {"access_config": {"for_each": "${nic.value.public ? [1] : []}", "content": {}}}}},
            "guest_accelerator": {"for_each": "${local.gpus}", "content": {
                "type": "${guest_accelerator.key}", "count": "${guest_accelerator.value}"}},
        },
        "scheduling": {"on_host_maintenance": "TERMINATE"},
    }}},
}


def test_terranix_json_dynamic_blocks_match_hcl(tmp_path: Path) -> None:
    hcl, js = tmp_path / "hcl", tmp_path / "json"
    hcl.mkdir()
    js.mkdir()
    (hcl / "main.tf").write_text(CONFIG)
    (js / "config.tf.json").write_text(json.dumps(JSON_CONFIG))
    docs = []
    for d in (hcl, js):
        proc = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--no-refresh", "--json", "-C", str(d),
                               "--no-color"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        docs.append(json.loads(proc.stdout)["resource_changes"][0]["change"]["after"])
    assert docs[0] == docs[1]
