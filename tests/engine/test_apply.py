"""Plan and apply end to end through the engine, with providers that enforce their lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.actions import Action
from reconciler.errors import StalePlanError
from reconciler.plan.planfile import check_fresh
from tests.engine.harness import apply, plan, state_of, write_config
from tests.fakes import Cloud

FLEET = """
variable "gpu" {
  type    = bool
  default = false
}
resource "hcloud_ssh_key" "admin" {
  name       = "admin"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8Kw3WbW0oXqZl2m9Lx1T6y2s3Q0i6p8m0S0bVY0xE a@b"
}
resource "hcloud_server" "web" {
  for_each    = toset(["a", "b"])
  name        = "web-${each.key}"
  server_type = "cx22"
  image       = "ubuntu-24.04"
  ssh_keys    = [hcloud_ssh_key.admin.name]
}
resource "hcloud_server" "gpu" {
  enabled     = var.gpu
  name        = "gpu"
  server_type = "cx32"
  image       = "ubuntu-24.04"
}
resource "nixos_machine" "web" {
  for_each    = hcloud_server.web
  target_host = each.value.ipv4_address
  flake       = ".#web-${each.key}"
}
resource "nixos_machine" "gpu" {
  target_host = hcloud_server.gpu.ipv4_address
  flake       = ".#gpu"
}
output "ips" {
  value = [for s in hcloud_server.web : s.ipv4_address]
}
"""


def actions(p: object) -> dict[str, str]:
    return {c.address: c.action.value for c in p.changes if c.action is not Action.NOOP}  # type: ignore[attr-defined]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return write_config(tmp_path / "fleet", FLEET)


def test_create_install_then_noop(fleet: Path) -> None:
    world = Cloud()
    p = plan(fleet, world)
    assert actions(p) == {
        "hcloud_ssh_key.admin": "create", 'hcloud_server.web["a"]': "create", 'hcloud_server.web["b"]': "create",
        "hcloud_server.gpu": "dormant", "nixos_machine.gpu": "dormant",
        'nixos_machine.web["a"]': "install", 'nixos_machine.web["b"]': "install"}
    result, backend = apply(fleet, world, p)
    assert result.ok, result.failed
    state = state_of(fleet)
    assert sorted(state.resources) == ["hcloud_server.web[\"a\"]", "hcloud_server.web[\"b\"]", "hcloud_ssh_key.admin",
                                       'nixos_machine.web["a"]', 'nixos_machine.web["b"]']
    # the machine was installed at the address its server got
    ip = state.resources['hcloud_server.web["a"]'].attributes["ipv4_address"]
    assert world.hosts['nixos_machine.web["a"]']["host"] == ip
    assert state.resources['nixos_machine.web["a"]'].private["install_phase"] == "done"
    assert state.outputs["ips"]["value"] == sorted(
        [state.resources['hcloud_server.web["a"]'].attributes["ipv4_address"],
         state.resources['hcloud_server.web["b"]'].attributes["ipv4_address"]])
    # state was written after every step, not once at the end
    assert len(backend.writes) >= 5
    again = plan(fleet, world)
    assert actions(again) == {"hcloud_server.gpu": "dormant", "nixos_machine.gpu": "dormant"}
    assert len(world.objects) == 3


def test_machine_providers_get_their_recorded_machines_before_the_walk(fleet: Path) -> None:
    world = Cloud()
    apply(fleet, world, plan(fleet, world, refresh=False))
    world.calls.clear()
    plan(fleet, world, refresh=False)
    prepared = [address for method, address in world.calls if method == "prepare"]
    assert sorted(prepared) == sorted(a for a, r in state_of(fleet).resources.items() if r.type == "nixos_machine")
    assert prepared and world.calls.index(("prepare", prepared[0])) < world.calls.index(("nix-eval", "2"))


def test_toggle_on_then_off_keeps_identity(fleet: Path) -> None:
    world = Cloud()
    apply(fleet, world, plan(fleet, world))
    on = plan(fleet, world, var=("gpu=true",))
    assert actions(on) == {"hcloud_server.gpu": "create", "nixos_machine.gpu": "install"}
    result, _ = apply(fleet, world, on)
    assert result.ok
    key = state_of(fleet).resources["nixos_machine.gpu"].attributes["host_key"]
    off = plan(fleet, world, var=("gpu=false",))
    assert actions(off) == {"hcloud_server.gpu": "delete", "nixos_machine.gpu": "dormant"}
    assert off.change("hcloud_server.gpu").reason.name == "DISABLED"
    result, _ = apply(fleet, world, off)
    assert result.ok
    dormant = state_of(fleet).resources["nixos_machine.gpu"]
    assert dormant.attributes["host_key"] == key and "install_phase" not in dormant.private
    assert "hcloud_server.gpu" not in state_of(fleet).resources
    back = plan(fleet, world, var=("gpu=true",))
    assert actions(back) == {"hcloud_server.gpu": "create", "nixos_machine.gpu": "install"}
    apply(fleet, world, back)
    assert state_of(fleet).resources["nixos_machine.gpu"].attributes["host_key"] == key


def test_failed_step_skips_dependents_only(fleet: Path) -> None:
    world = Cloud(fail={'hcloud_server.web["a"]'})
    result, _ = apply(fleet, world, plan(fleet, world))
    assert set(result.failed) == {'hcloud_server.web["a"]'}
    assert result.skipped == {'nixos_machine.web["a"]': 'hcloud_server.web["a"]'}
    assert {'hcloud_server.web["b"]', 'nixos_machine.web["b"]', "hcloud_ssh_key.admin"} <= set(result.done)
    world.fail.clear()
    retry = plan(fleet, world)
    assert actions(retry) == {'hcloud_server.web["a"]': "create", 'nixos_machine.web["a"]': "install",
                              "hcloud_server.gpu": "dormant", "nixos_machine.gpu": "dormant"}


def test_created_but_unrecorded_object_is_adopted_not_duplicated(fleet: Path) -> None:
    world = Cloud()
    p = plan(fleet, world)
    apply(fleet, world, p)
    state_path = fleet / "reconciler.state.json"
    # simulate a crash that lost the record of one server: drop it from state, keep it in the cloud
    from reconciler.state.local import LocalBackend

    b = LocalBackend(state_path)
    b.write(b.read().without('hcloud_server.web["b"]'))
    again = plan(fleet, world)
    assert 'hcloud_server.web["b"]' not in actions(again)
    apply(fleet, world, again)
    assert len([o for o in world.objects.values() if o["name"] == "web-b"]) == 1
    assert 'hcloud_server.web["b"]' in state_of(fleet).resources


def test_destroy_runs_in_reverse_dependency_order(fleet: Path) -> None:
    world = Cloud()
    apply(fleet, world, plan(fleet, world))
    world.calls.clear()
    d = plan(fleet, world, destroy=True)
    result, _ = apply(fleet, world, d, parallelism=1)
    assert result.ok
    deletes = [a for m, a in world.calls if m == "delete"]
    assert deletes.index('hcloud_server.web["a"]') < deletes.index("hcloud_ssh_key.admin")
    assert world.objects == {} and state_of(fleet).resources == {}


def test_saved_plan_is_refused_once_state_moved(fleet: Path) -> None:
    world = Cloud()
    first = plan(fleet, world)
    second = plan(fleet, world)
    apply(fleet, world, first)
    with pytest.raises(StalePlanError, match="made against no state"):
        check_fresh(second, state_of(fleet))
    third = plan(fleet, world, var=("gpu=true",))
    check_fresh(third, state_of(fleet))
    apply(fleet, world, plan(fleet, world, var=("gpu=true",)))
    with pytest.raises(StalePlanError, match="serial"):
        check_fresh(third, state_of(fleet))


def test_targets_take_dependencies(fleet: Path) -> None:
    world = Cloud()
    p = plan(fleet, world, targets=('nixos_machine.web["a"]',))
    assert actions(p) == {"hcloud_ssh_key.admin": "create", 'hcloud_server.web["a"]': "create",
                          'nixos_machine.web["a"]': "install"}


INVENTORY = """
inventory {
  service "users" {
    role "default" {
      tags = ["all"]
    }
    settings = { admins = ["ops"] }
  }
}
"""


def test_inventory_json_changes_update_the_members_once(fleet: Path) -> None:
    import json

    config = FLEET.replace('flake       = ".#web-${each.key}"', 'flake       = ".#web-${each.key}"\n  tags = ["all"]')
    config = config.replace('flake       = ".#gpu"', 'flake       = ".#gpu"\n  tags        = ["all"]')
    write_config(fleet, config + INVENTORY)
    world = Cloud()
    apply(fleet, world, plan(fleet, world))
    inv = json.loads((fleet / "inventory.json").read_text())
    doc = inv["machines"]
    assert sorted(doc) == ["a", "b"]  # the gpu machine is dormant: no member of anything
    assert inv["services"]["users"] == {"settings": {"admins": ["ops"]}, "roles": {"default": ["a", "b"]}}
    assert doc["a"]["roles"] == {"users": ["default"]}
    state = state_of(fleet)
    assert {n: doc[n]["address"] for n in doc} == {
        "a": state.resources['hcloud_server.web["a"]'].attributes["ipv4_address"],
        "b": state.resources['hcloud_server.web["b"]'].attributes["ipv4_address"]}
    # what apply wrote is what the next plan expects: no updates forever after
    assert actions(plan(fleet, world)) == {"hcloud_server.gpu": "dormant", "nixos_machine.gpu": "dormant"}
    on = plan(fleet, world, var=("gpu=true",))
    assert actions(on) == {"hcloud_server.gpu": "create", "nixos_machine.gpu": "install",
                           'nixos_machine.web["a"]': "nixos-update", 'nixos_machine.web["b"]': "nixos-update"}
    assert on.change('nixos_machine.web["a"]').reason.name == "INVENTORY_CHANGED"
    result, _ = apply(fleet, world, on)
    assert result.ok, result.failed
    inv = json.loads((fleet / "inventory.json").read_text())
    assert sorted(inv["machines"]) == ["a", "b", "gpu"]
    assert inv["services"]["users"]["roles"]["default"] == ["a", "b", "gpu"]
    assert all(m["address"] for m in inv["machines"].values())
    assert actions(plan(fleet, world, var=("gpu=true",))) == {}


CBD = """
variable "image" {
  type    = string
  default = "ubuntu-24.04"
}
resource "hcloud_server" "node" {
  name        = "node"
  server_type = "cx22"
  image       = var.image
  lifecycle {
    create_before_destroy = true
  }
}
"""


def test_create_before_destroy_with_a_journalled_delete_leaves_no_pending(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "cbd", CBD)
    world = Cloud()
    apply(directory, world, plan(directory, world))
    old_id = state_of(directory).resources["hcloud_server.node"].id
    replaced = plan(directory, world, var=("image=debian-12",))
    assert actions(replaced) == {"hcloud_server.node": "replace"}
    result, _ = apply(directory, world, replaced)
    assert result.ok, result.failed
    record = state_of(directory).resources["hcloud_server.node"]
    assert record.pending is None  # the fake journals its delete (request_id), as Google does
    assert record.id != old_id and list(world.objects) == [record.id]
    assert actions(plan(directory, world, var=("image=debian-12",))) == {}


BIG_SERVICE = """
resource "hcloud_server" "node" {
  count       = 20
  name        = "node-${count.index}"
  server_type = "cx22"
  image       = "ubuntu-24.04"
}
resource "nixos_machine" "node" {
  count       = 20
  target_host = hcloud_server.node[count.index].ipv4_address
  tags        = ["all"]
}
inventory {
  service "users" {
    role "default" { tags = ["all"] }
  }
}
"""


def test_a_large_service_applies_through_its_barrier_with_every_address_known(tmp_path: Path) -> None:
    import json

    directory = write_config(tmp_path / "big", BIG_SERVICE)  # 20 x 20 pairs: one barrier node in the graph
    world = Cloud()
    result, _ = apply(directory, world, plan(directory, world))
    assert result.ok, result.failed
    assert "inventory.users" not in result.done and len(result.done) == 40  # the barrier is no step
    installs = [i for i, (action, _) in enumerate(world.calls) if action == "install"]
    creates = [i for i, (action, _) in enumerate(world.calls) if action == "create"]
    assert max(creates) < min(installs)  # no machine was built before every member's address was known
    doc = json.loads((directory / "inventory.json").read_text())
    assert all(m["address"] for m in doc["machines"].values()) and len(doc["machines"]) == 20
    assert actions(plan(directory, world)) == {}


def test_plan_warnings_are_kept_once_each_in_order(tmp_path: Path) -> None:
    """Every server's own warning is kept (as a deprecated type's is, one per server) and one that many
    responses repeat is kept once; a set keeps this linear in the fleet."""
    write_config(tmp_path, """
resource "hcloud_server" "web" {
  count       = 400
  name        = "web-${count.index}"
  server_type = "cx22"
  image       = "ubuntu-24.04"
  labels      = { warn = count.index % 2 == 0 ? "shared-warning" : "own-${count.index}" }
}
""")
    warnings = plan(tmp_path, Cloud(), refresh=False).warnings
    assert warnings[0] == "shared-warning" and warnings.count("shared-warning") == 1
    assert [w for w in warnings if w != "shared-warning"] == [f"own-{i}" for i in range(1, 400, 2)]
