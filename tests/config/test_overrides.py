"""Override files merge as Terraform merges them: attribute by attribute into the block with the same type and
labels, nested blocks replaced by type, locals by name; an override without a base block is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.evaluator import evaluate
from reconciler.config.loader import load_directory
from reconciler.errors import ConfigErrors
from tests.config.helpers import DictScope

MAIN = """
provider "hcloud" {
  token         = "real"
  poll_interval = 2
}
locals {
  region = "eu"
  size   = 3
}
resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx23"
  image       = "debian-12"
  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }
}
"""


def literal(config_dir: Path, block: str, name: str) -> object:
    loaded = load_directory(config_dir)
    decls = loaded.decls
    if block == "provider":
        expr = decls.providers["hcloud"].attributes[name]
    elif block == "local":
        expr = decls.locals[name].expr
    else:
        expr = decls.resources["hcloud_server.web"].attributes[name]
    return evaluate(expr, DictScope())


def test_override_merges_attributes_and_replaces_nested_blocks(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "sandbox_override.tf").write_text(
        'provider "hcloud" {\n  token = "sandbox"\n  endpoint = "http://127.0.0.1:1/v1"\n}\n'
        'locals {\n  size = 5\n}\n'
        'resource "hcloud_server" "web" {\n  public_net {\n    ipv4_enabled = false\n  }\n}\n')
    assert literal(tmp_path, "provider", "token") == "sandbox"
    assert literal(tmp_path, "provider", "endpoint") == "http://127.0.0.1:1/v1"
    assert literal(tmp_path, "provider", "poll_interval") == 2  # kept from the base block
    assert literal(tmp_path, "local", "size") == 5
    assert literal(tmp_path, "local", "region") == "eu"
    assert literal(tmp_path, "resource", "server_type") == "cx23"
    assert literal(tmp_path, "resource", "public_net") == [{"ipv4_enabled": False}]  # the whole block replaced


def test_override_files_apply_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "a_override.tf").write_text('provider "hcloud" {\n  token = "a"\n}\n')
    (tmp_path / "override.tf.json").write_text('{"provider": {"hcloud": {"token": "json"}}}')
    assert literal(tmp_path, "provider", "token") == "json"  # "override.tf.json" sorts after "a_override.tf"


def test_override_without_a_base_block_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "sandbox_override.tf").write_text('provider "google" {\n  project = "x"\n}\n')
    with pytest.raises(ConfigErrors) as caught:
        load_directory(tmp_path)
    (line,) = caught.value.lines()
    assert line.startswith("sandbox_override.tf:1: ")
    assert 'provider "google" in the override file sandbox_override.tf has no block to override' in line


def test_a_saved_plan_snapshot_keeps_the_override_file(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "sandbox_override.tf").write_text('provider "hcloud" {\n  token = "sandbox"\n}\n')
    assert set(load_directory(tmp_path).snapshot()) == {"main.tf", "sandbox_override.tf"}
