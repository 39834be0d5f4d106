"""The library API (reconciler.api) as a GitOps bot would call it: load with variables, validate, plan,
apply with hooks, then a second plan with nothing to do; apply refuses a plan once the state moved on."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import api
from reconciler.actions import Action
from reconciler.errors import ConfigErrors, StalePlanError
from reconciler.plan.planner import PlanOptions
from tests.engine.harness import write_config
from tests.fakes import Cloud, factories

CONFIG = """
variable "n" {
  type    = number
  default = 1
}
resource "hcloud_server" "node" {
  count       = var.n
  name        = "node-${count.index}"
  server_type = "cx22"
  image       = "ubuntu-24.04"
}
resource "nixos_machine" "node" {
  count       = var.n
  target_host = hcloud_server.node[count.index].ipv4_address
  tags        = ["all"]
}
inventory {
  service "users" {
    role "default" { tags = ["all"] }
  }
}
"""


class Recorder:
    def __init__(self) -> None:
        self.done: list[tuple[str, Action]] = []

    def pre_step(self, address: str, action: Action) -> None:
        pass

    def on_phase(self, address: str, phase: str) -> None:
        pass

    def post_step(self, address: str, action: Action, error: BaseException | None, seconds: float) -> None:
        self.done.append((address, action))

    def on_skip(self, address: str, root_cause: str) -> None:
        pass


def test_load_plan_apply_through_the_library(tmp_path: Path) -> None:
    directory = write_config(tmp_path / "fleet", CONFIG)
    world = Cloud()
    ws = api.load(directory, {"n": 2}, factories=factories(world))
    api.validate(ws)
    plan = api.plan(ws, PlanOptions(refresh=False))
    assert plan.counts()["add"] == 2 and plan.counts()["install"] == 2
    hooks = Recorder()
    result = api.apply(ws, plan, hooks)
    assert result.ok, result.failed
    assert sorted(hooks.done) == sorted((c.address, c.action) for c in plan.changes if c.action.is_change)
    state = api.read_state(ws)
    assert sorted(state.resources) == ["hcloud_server.node[0]", "hcloud_server.node[1]",
                                       "nixos_machine.node[0]", "nixos_machine.node[1]"]
    assert not api.plan(ws, PlanOptions(refresh=False)).has_changes
    with pytest.raises(StalePlanError):  # the state moved on since `plan` was made
        api.apply(ws, plan)


def test_validate_names_an_unknown_machine_with_its_line(tmp_path: Path) -> None:
    text = CONFIG.replace('role "default" { tags = ["all"] }', 'role "default" { machines = ["nope"] }')
    directory = write_config(tmp_path / "fleet", text)
    ws = api.load(directory, factories=factories(Cloud()))
    with pytest.raises(ConfigErrors) as err:
        api.validate(ws)
    [line] = err.value.lines()
    assert 'unknown machine "nope"' in line and "main.tf:" in line, line
