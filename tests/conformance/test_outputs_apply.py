"""Outputs at apply, as Terraform records them: a failing output fails an apply whose steps all succeeded
(the other outputs are still recorded); it is no silent null."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from tests.engine.harness import apply, plan, state_of, write_config
from tests.fakes import Cloud

CONFIG = """
resource "hcloud_ssh_key" "admin" {
  name       = "admin"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8Kw3WbW0oXqZl2m9Lx1T6y2s3Q0i6p8m0S0bVY0xE a@b"
}
output "fingerprint" {
  value = hcloud_ssh_key.admin.fingerprint
}
output "broken" {
  value = tonumber(hcloud_ssh_key.admin.name)
}
"""


def test_a_failing_output_fails_the_apply_and_the_others_are_recorded(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "conf", CONFIG)
    world = Cloud()
    with pytest.raises(ConfigError, match="tonumber"):
        apply(conf, world, plan(conf, world))
    state = state_of(conf)
    assert "hcloud_ssh_key.admin" in state.resources  # the step itself was done and recorded
    assert state.outputs["fingerprint"]["value"] == state.resources["hcloud_ssh_key.admin"].attributes["fingerprint"]
    assert "broken" not in state.outputs


TOGGLED = """
variable "gpu" {
  type    = bool
  default = false
}
resource "hcloud_server" "gpu" {
  enabled     = var.gpu
  name        = "gpu"
  server_type = "cx32"
  image       = "ubuntu-24.04"
}
output "gpu_ip" {
  value = hcloud_server.gpu.ipv4_address
}
"""


def test_an_output_of_a_resource_toggled_off_is_null_not_an_error(tmp_path: Path) -> None:
    conf = write_config(tmp_path / "conf", TOGGLED + CONFIG.split('output "broken"')[0])
    world = Cloud()
    apply(conf, world, plan(conf, world))
    outputs = state_of(conf).outputs
    assert outputs["gpu_ip"]["value"] is None
    assert outputs["fingerprint"]["value"]
