"""kill -9 of `reconciler apply` in the middle of creating servers, then apply again: no server is made
twice and none is left behind unrecorded. Two moments, each made certain rather than left to chance:
after the new ids were recorded while the servers still start (slow create actions), and between
`POST /servers` being served and its answer reaching the CLI (a holding proxy keeps the answer back).

Each scenario runs once per module; the tests below read what it left."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from providers.hcloud.emulator import start_emulator

from .conftest import HCLOUD_SCALE, Cli, Result, hcloud_problems, hcloud_provider, pending_steps, wait_until
from .holding_proxy import HoldingProxy

NODES = ("alpha", "beta")
ADDRESSES = tuple(f'hcloud_server.node["{n}"]' for n in NODES)


def config(endpoint: str) -> str:
    return hcloud_provider(endpoint) + """
resource "hcloud_server" "node" {
  for_each    = toset(["alpha", "beta"])
  name        = each.key
  server_type = "cx23"
  image       = "debian-12"
  location    = "hel1"
  labels      = { role = "node" }
}
"""


@dataclass(frozen=True)
class Outcome:
    """What a killed apply left, and what the apply after it made of that."""

    killed_output: str
    at_kill: list[dict[str, Any]]  # the emulator's servers when the apply was killed
    crashed: dict[str, Any]  # the state the killed apply left
    again: Result  # the apply after it
    state: dict[str, Any]  # the state after that apply
    servers: list[dict[str, Any]]  # the emulator's servers after that apply
    problems: list[str]
    creates: int  # POST /servers the emulator served in all
    replan: Result  # plan --detailed-exitcode afterwards


def _finish(cli: Cli, emu: Any, killed_output: str, at_kill: list[dict[str, Any]]) -> Outcome:
    crashed = cli.state()
    again = cli.run("apply", "--auto-approve", code=None)
    state = cli.state()
    return Outcome(killed_output, at_kill, crashed, again, state, emu.servers(), hcloud_problems(emu, state),
                   emu.request_counts.get("POST /servers", 0), cli.run("plan", "--detailed-exitcode", code=None))


@pytest.fixture(scope="module")
def killed_while_starting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    """Create actions take 3 s; the apply is killed once both ids are in state, while the servers start."""
    directory = tmp_path_factory.mktemp("starting") / "fleet"
    directory.mkdir()
    cli = Cli(directory)
    with start_emulator(time_scale=HCLOUD_SCALE, token="e2e-token", durations={"create_server": 600.0}) as emu:
        try:
            cli.write(config(emu.endpoint))
            apply = cli.start("apply", "--auto-approve")

            def recorded() -> bool:
                if apply.poll() is not None:
                    return True
                try:
                    resources = cli.state()["resources"]
                except (OSError, ValueError):
                    return False
                return all(resources.get(a, {}).get("id") for a in ADDRESSES)

            wait_until(recorded, what="both ids in state")
            apply.send_signal(signal.SIGKILL)
            assert apply.wait(timeout=30) == -signal.SIGKILL, cli.output_of(apply)
            yield _finish(cli, emu, cli.output_of(apply), emu.servers())
        finally:
            cli.kill_all()


@pytest.fixture(scope="module")
def killed_before_the_answer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    """The first POST /servers is served, its answer held back by a proxy, and the apply killed meanwhile."""
    directory = tmp_path_factory.mktemp("unanswered") / "fleet"
    directory.mkdir()
    cli = Cli(directory)
    with start_emulator(time_scale=HCLOUD_SCALE, token="e2e-token") as emu, HoldingProxy(emu.endpoint) as proxy:
        try:
            held = proxy.hold("POST", r"/servers$")
            cli.write(config(proxy.endpoint))
            apply = cli.start("apply", "--auto-approve", "--parallelism", "1")
            assert held.answered.wait(timeout=60), cli.output_of(apply)
            apply.send_signal(signal.SIGKILL)
            assert apply.wait(timeout=30) == -signal.SIGKILL, cli.output_of(apply)
            held.release()
            assert held.status == 201
            yield _finish(cli, emu, cli.output_of(apply), emu.servers())
        finally:
            cli.kill_all()


# ------------------------------------------------------------------------ killed while the servers start
def test_killed_while_starting_left_the_steps_in_flight(killed_while_starting: Outcome) -> None:
    o = killed_while_starting
    assert {s["status"] for s in o.at_kill} == {"initializing"} and len(o.at_kill) == len(NODES)
    assert pending_steps(o.crashed) == {a: "create" for a in ADDRESSES}
    assert {o.crashed["resources"][a]["id"] for a in ADDRESSES} == {str(s["id"]) for s in o.at_kill}
    assert "create done" not in o.killed_output


def test_killed_while_starting_then_apply_makes_no_duplicate_and_no_orphan(killed_while_starting: Outcome) -> None:
    o = killed_while_starting
    assert o.again.code == 0, o.again.explain()
    assert o.problems == []
    assert sorted(s["name"] for s in o.servers) == sorted(NODES)
    assert {o.state["resources"][a]["id"] for a in ADDRESSES} == {str(s["id"]) for s in o.at_kill}
    assert o.creates == len(NODES)
    assert o.replan.code == 0, o.replan.explain()


def test_killed_while_starting_then_apply_finishes_the_interrupted_creates(killed_while_starting: Outcome) -> None:
    o = killed_while_starting
    assert pending_steps(o.state) == {}
    assert {o.state["resources"][a]["attributes"]["status"] for a in ADDRESSES} == {"running"}


# ------------------------------------------------------------------------ killed before the create's answer
def test_killed_before_the_answer_left_an_intent_without_an_id(killed_before_the_answer: Outcome) -> None:
    o = killed_before_the_answer
    [made] = o.at_kill  # the emulator made it; the CLI never heard of its id
    [entry] = o.crashed["resources"].values()
    assert entry["id"] is None and entry["pending"]["action"] == "create"
    assert entry["pending"]["name"] == made["name"]
    assert made["labels"]["reconciler-lineage"] == o.crashed["lineage"]


def test_killed_before_the_answer_then_apply_adopts_instead_of_duplicating(killed_before_the_answer: Outcome) -> None:
    o = killed_before_the_answer
    [made] = o.at_kill
    assert o.again.code == 0, o.again.explain()
    assert "adopted" in o.again.stdout
    assert o.problems == []
    assert sorted(s["name"] for s in o.servers) == sorted(NODES)
    address = f'hcloud_server.node["{made["name"]}"]'
    assert o.state["resources"][address]["id"] == str(made["id"])
    assert o.creates == len(NODES)  # the made server was adopted, not created again
    assert o.replan.code == 0, o.replan.explain()
