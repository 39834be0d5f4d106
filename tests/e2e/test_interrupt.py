"""Ctrl-C during apply: steps already running finish and are recorded, no new step starts, exit 1 says so;
the next apply does the rest."""

from __future__ import annotations

import signal

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
