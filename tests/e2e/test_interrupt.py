"""Ctrl-C during apply: steps already running finish and are recorded, no new step starts, exit 1 says so;
the next apply does the rest."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest

from providers.hcloud.emulator import Emulator as HcloudEmulator
from tests.e2e.conftest import Cli, hcloud_problems, hcloud_provider, wait_until

SERVERS = """
resource "hcloud_server" "s" {
  for_each    = toset(["a", "b", "c"])
  name        = "s-${each.key}"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}
"""


def test_interrupt_lets_running_steps_finish_and_starts_nothing_new(cli: Cli, hcloud: HcloudEmulator) -> None:
    cli.write(hcloud_provider(hcloud.endpoint) + SERVERS)
    hcloud.set_knobs(durations={"create_server": 400.0})  # 2 s of real time per create at the e2e time scale
    proc = cli.start("apply", "--auto-approve", "--parallelism", "1")
    wait_until(lambda: len(hcloud.servers()) == 1, what="the first create to reach the API")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 1
    out = cli.output_of(proc)
    assert "Interrupted: no new steps start" in out
    assert "1 done, 0 failed, 0 skipped (upstream failed), 2 not started (interrupted)" in out
    assert [s["name"] for s in hcloud.servers()] == ["s-a"]
    state = cli.state()
    assert list(state["resources"]) == ['hcloud_server.s["a"]']
    assert state["resources"]['hcloud_server.s["a"]'].get("pending") is None  # it finished and was recorded
    assert hcloud_problems(hcloud, state) == []
    hcloud.set_knobs(durations={"create_server": 10.0})
    done = cli.run("apply", "--auto-approve")
    assert "Apply complete: 2 done" in done.stdout
    assert sorted(s["name"] for s in hcloud.servers()) == ["s-a", "s-b", "s-c"]
    assert hcloud_problems(hcloud, cli.state()) == []


def _press_ctrl_c(proc: subprocess.Popen[str], times: int) -> None:
    for _ in range(times):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)  # a person pressing again; not a measurement


def test_repeated_ctrl_c_stops_running_steps_in_one_line_each_and_is_never_drift(
        cli: Cli, hcloud: HcloudEmulator) -> None:
    cli.write(hcloud_provider(hcloud.endpoint) + SERVERS)
    hcloud.set_knobs(durations={"create_server": 6000.0})  # 30 s of real time per create
    proc = cli.start("apply", "--auto-approve", "--parallelism", "3")
    wait_until(lambda: len(hcloud.servers()) == 3, what="three creates to reach the API")
    wait_until(lambda: cli.state_path.exists() and all(
        r.get("id") for r in cli.state()["resources"].values()) and len(cli.state()["resources"]) == 3,
        what="the three ids to be recorded")
    _press_ctrl_c(proc, 3)
    assert proc.wait(timeout=60) == 1
    out = cli.output_of(proc)
    assert "Traceback" not in out and "CancelledError" not in out and "internal error" not in out, out
    stopped = [line for line in out.splitlines() if line.startswith("error: ")]
    assert len(stopped) == 3 and all("stopped by Ctrl-C" in line for line in stopped), out
    # each interrupted create is recorded as such; `show` says so, and a plan does not call it drift
    shown = cli.run("show").stdout
    assert shown.count("was interrupted; the next apply resumes it") == 3, shown
    hcloud.set_knobs(durations={"create_server": 10.0})
    plan = cli.run("plan")
    assert "outside reconciler" not in plan.stdout, plan.stdout
    done = cli.run("apply", "--auto-approve")
    assert "Apply complete" in done.stdout, done.explain()
    assert hcloud_problems(hcloud, cli.state()) == []
    assert sorted(s["name"] for s in hcloud.servers()) == ["s-a", "s-b", "s-c"]
    # interrupted deletes are not "deleted outside reconciler" either
    cli.write(hcloud_provider(hcloud.endpoint))
    hcloud.set_knobs(durations={"delete_server": 6000.0})
    proc = cli.start("apply", "--auto-approve", "--parallelism", "3")
    wait_until(lambda: all(r.get("pending") for r in cli.state()["resources"].values()),
               what="the deletes to start")
    _press_ctrl_c(proc, 2)
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in cli.output_of(proc)
    hcloud.set_knobs(durations={"delete_server": 1.0})
    plan = cli.run("plan")
    assert "outside reconciler" not in plan.stdout, plan.stdout
    cli.run("apply", "--auto-approve")
    assert cli.state()["resources"] == {}
    assert hcloud_problems(hcloud, cli.state()) == []


@pytest.mark.parametrize("presses", [1, 3])
def test_ctrl_c_while_a_refresh_is_blocked_is_one_line_and_no_hang(cli: Cli, presses: int) -> None:
    with socket.socket() as server:  # an API that takes the connection and never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(60)
        cli.write(hcloud_provider(f"http://127.0.0.1:{server.getsockname()[1]}/v1") + SERVERS)
        cli.state_path.write_text(json.dumps({"version": 1, "serial": 1, "lineage": "l", "resources": {
            'hcloud_server.s["a"]': {"type": "hcloud_server", "id": "5", "attributes": {"name": "s-a"}}}}))
        proc = cli.start("apply", "--auto-approve")
        conn, _ = server.accept()  # the refresh is now waiting for an answer
        with conn:
            _press_ctrl_c(proc, presses)
            assert proc.wait(timeout=30) == 1
    out = cli.output_of(proc)
    assert out.strip().splitlines()[-1] == "error: interrupted" and out.count("error:") == 1, out
    assert "Traceback" not in out
