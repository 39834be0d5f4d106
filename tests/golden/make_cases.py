"""Build the inputs of the golden cases (configuration, prior state, options) from short definitions.

Run `python -m tests.golden.make_cases` after changing a definition here; prior states are made by
applying the `prior` configuration with the lifecycle fakes, so they are what an apply really records.
Expected outputs are then written by `RECONCILER_REGEN=1 pytest tests/golden` and reviewed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.engine.harness import apply, plan, state_of
from tests.fakes import Cloud

HERE = Path(__file__).parent
CASES = HERE
EXAMPLE = HERE.parent.parent / "examples" / "fleet"
LINEAGE = "00000000-0000-4000-8000-000000000000"


def example() -> str:
    return "\n".join((EXAMPLE / n).read_text() for n in ("variables.tf", "main.tf", "inventory.tf"))


SMALL = """
variable "n" {
  type    = number
  default = 2
}
variable "on" {
  type    = bool
  default = true
}
resource "hcloud_ssh_key" "admin" {
  name       = "admin"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8Kw3WbW0oXqZl2m9Lx1T6y2s3Q0i6p8m0S0bVY0xE a@b"
}
resource "hcloud_server" "node" {
  count       = var.n
  enabled     = var.on
  name        = "node-${count.index}"
  server_type = "cx22"
  image       = "ubuntu-24.04"
  ssh_keys    = [hcloud_ssh_key.admin.name]
  labels      = { role = "node" }
}
resource "nixos_machine" "node" {
  count       = var.n
  target_host = hcloud_server.node[count.index].ipv4_address
  flake       = ".#node-${count.index}"
  tags        = ["all"]
}
"""


@dataclass
class Case:
    config: str
    prior: str | None = None  # configuration applied first to make the prior state
    prior_vars: tuple[str, ...] = ()
    vars: tuple[str, ...] = ()
    destroy: bool = False
    targets: tuple[str, ...] = ()
    toplevels: dict[str, str] = field(default_factory=dict)
    prior_toplevels: dict[str, str] = field(default_factory=dict)
    json_config: bool = False
    state_moves_on: dict[str, object] | None = None  # stale-plan cases: the state written after the plan


def definitions() -> dict[str, Case]:
    ex = example()
    return {
        "create_all": Case(ex),
        "create_all_json": Case((HERE.parent.parent / "examples/fleet-json/config.tf.json").read_text(),
                                json_config=True),
        "create_with_gpu": Case(ex, vars=("gpu_enabled=true",)),
        "noop_after_apply": Case(ex, prior=ex),
        "toggle_gpu_on": Case(ex, prior=ex, vars=("gpu_enabled=true",)),
        "toggle_gpu_off": Case(ex, prior=ex, prior_vars=("gpu_enabled=true",)),
        "toggle_cpu_off_dormant_controller": Case(ex, prior=ex, vars=("cpu_enabled=false",)),
        "toggle_off_never_created": Case(ex, vars=("gpu_enabled=false", "cpu_enabled=false")),
        "for_each_add_key": Case(ex, prior=ex, vars=('web_nodes=["electrum","galena","pyrite"]',)),
        "for_each_remove_key": Case(ex, prior=ex, prior_vars=('web_nodes=["electrum","galena","pyrite"]',)),
        "count_grow": Case(SMALL, prior=SMALL, vars=("n=3",)),
        "count_shrink": Case(SMALL, prior=SMALL, prior_vars=("n=3",), vars=("n=1",)),
        "count_zero": Case(SMALL, prior=SMALL, vars=("n=0",)),
        "disable_count_resource": Case(SMALL, prior=SMALL, vars=("on=false",)),
        "references_order": Case(SMALL),
        "replace_image_reinstalls": Case(SMALL.replace('"ubuntu-24.04"', '"debian-12"'), prior=SMALL),
        "update_labels_in_place": Case(SMALL.replace('role = "node"', 'role = "worker"'), prior=SMALL),
        "update_and_ignore_changes": Case(SMALL.replace('role = "node"', 'role = "worker"').replace(
            'labels      = { role = "worker" }', 'labels      = { role = "worker" }\n  lifecycle {\n'
            '    ignore_changes = [labels]\n  }'), prior=SMALL),
        "create_before_destroy": Case(SMALL.replace('"ubuntu-24.04"', '"debian-12"').replace(
            'labels      = { role = "node" }', 'labels      = { role = "node" }\n  lifecycle {\n'
            '    create_before_destroy = true\n  }'), prior=SMALL),
        "destroy_ordering_removed_config": Case('variable "n" {\n  default = 0\n}\n', prior=SMALL),
        "destroy_mode": Case(ex, prior=ex, destroy=True),
        "target_one_machine": Case(ex, targets=('nixos_machine.web["galena"]',)),
        "target_destroy_takes_dependents": Case(SMALL, prior=SMALL, destroy=True,
                                               targets=("hcloud_server.node[1]",)),
        "nixos_update_after_controller": Case(ex, prior=ex, toplevels={
            "nixos_machine.cinnabar": "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-cinnabar",
            'nixos_machine.web["electrum"]': "/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-electrum",
            'nixos_machine.web["galena"]': "/nix/store/dddddddddddddddddddddddddddddddd-nixos-system-galena"},
            prior_toplevels={
            "nixos_machine.cinnabar": "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-cinnabar",
            'nixos_machine.web["electrum"]': "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-nixos-system-electrum",
            'nixos_machine.web["galena"]': "/nix/store/dddddddddddddddddddddddddddddddd-nixos-system-galena"}),
        "machine_removed_is_forgotten": Case(SMALL.replace('resource "nixos_machine" "node"',
                                                           'resource "nixos_machine" "gone"').replace(
            "count       = var.n\n  target_host", "count       = 0\n  target_host"), prior=SMALL),
        "sensitive_variable_masked": Case(SMALL.replace('variable "on" {', 'variable "secret_label" {\n'
                                                        '  type      = string\n  default   = "s3cr3t"\n'
                                                        '  sensitive = true\n}\nvariable "on" {').replace(
            'labels      = { role = "node" }', 'labels      = { role = "node" }\n  user_data   = var.secret_label')),
        "dormant_chain": Case(ex.replace('resource "nixos_machine" "scheelite" {',
                                         'resource "hcloud_server" "gpu_sidecar" {\n'
                                         '  name        = "sidecar-${google_compute_instance.gpu.name}"\n'
                                         '  server_type = "cx22"\n  image       = "ubuntu-24.04"\n}\n\n'
                                         'resource "nixos_machine" "scheelite" {')),
        "stale_plan_serial_moved": Case(SMALL, prior=SMALL, vars=("n=3",), state_moves_on={"serial": 99}),
        "stale_plan_lineage_changed": Case(SMALL, prior=SMALL, vars=("n=3",), state_moves_on={
            "serial": 1, "lineage": "11111111-2222-4333-8444-555555555555"}),
        "stale_plan_made_from_no_state": Case(SMALL, state_moves_on={"serial": 1}),
        "fresh_saved_plan_is_accepted": Case(SMALL, prior=SMALL, vars=("n=3",), state_moves_on={"serial": "same"}),
        "prevent_destroy_error": Case(SMALL.replace('labels      = { role = "node" }',
                                                    'labels      = { role = "node" }\n  lifecycle {\n'
                                                    '    prevent_destroy = true\n  }'), prior=SMALL, vars=("n=1",)),
    }


def build() -> None:
    for name, case in definitions().items():
        target = CASES / name
        expected = target / "expected"
        keep = None
        if expected.exists():
            keep = Path(tempfile.mkdtemp()) / "expected"
            shutil.copytree(expected, keep)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (target / ("config.tf.json" if case.json_config else "main.tf")).write_text(case.config)
        opts = {k: v for k, v in {"vars": list(case.vars), "destroy": case.destroy, "targets": list(case.targets),
                                  "toplevels": case.toplevels, "state_moves_on": case.state_moves_on}.items() if v}
        (target / "case.json").write_text(json.dumps(opts, indent=2) + "\n")
        if case.prior is not None:
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                (work / "main.tf").write_text(case.prior)
                world = Cloud(toplevels=case.prior_toplevels)
                p = plan(work, world, var=case.prior_vars, refresh=False)
                p = type(p)(**{**p.__dict__, "lineage": LINEAGE})
                result, _ = apply(work, world, p)
                assert result.ok, (name, result.failed)
                doc = state_of(work)
                (target / "state.json").write_text(doc.dumps())
                if (work / "inventory.json").exists():  # what the prior apply wrote, as a user commits it
                    shutil.copy(work / "inventory.json", target / "inventory.json")
        if keep is not None:
            shutil.copytree(keep, expected)
    print(f"built {len(definitions())} cases in {CASES}")


if __name__ == "__main__":
    build()
