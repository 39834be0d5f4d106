"""A hostile Hetzner API during an apply: 429 storms (one before the apply, one more when the first server
create arrives), one request in ten answered with a 5xx, and creates that make the server but answer 503.
The apply still converges: exit 0, every server and the SSH key created exactly once, state matching.

Known bug (providers/hcloud/transport.py, PacedAdapter.send): one attempt counter serves 429 and 5xx
retries, so a request that waited out 8 or more 429s gives up at its first 5xx ("answered 503 ... 13
times", though it got one 503). In the storm below that happens when a 5xx falls on such a request, which is
likely but not certain; the saved-plan test reproduces it every time."""

from __future__ import annotations

import threading

from providers.hcloud.emulator import Emulator

from .conftest import ADMIN_KEY, Cli, hcloud_problems, hcloud_provider, owned_servers

NODES = tuple(f"storm{i}" for i in range(6))
STORM = 40  # requests answered 429 in a row


def config(endpoint: str) -> str:
    nodes = ", ".join(f'"{n}"' for n in NODES)
    return hcloud_provider(endpoint) + f"""
resource "hcloud_ssh_key" "admin" {{
  name       = "admin"
  public_key = "{ADMIN_KEY}"
}}

resource "hcloud_server" "node" {{
  for_each    = toset([{nodes}])
  name        = each.key
  server_type = "cpx12"
  image       = "debian-12"
  locations   = ["fsn1", "nbg1"]
  ssh_keys    = [hcloud_ssh_key.admin.id]
  labels      = {{ role = "storm" }}
}}
"""


def second_storm_at_first_create(emu: Emulator, done: threading.Event) -> None:
    """Start another 429 storm as soon as the first POST /servers has been counted."""
    while not done.wait(0.002):
        if emu.request_counts.get("POST /servers", 0) > 0:
            emu.set_knobs(storm_429=STORM)
            return


def test_apply_converges_through_429_storms_and_5xx(cli: Cli, hcloud: Emulator) -> None:
    cli.write(config(hcloud.endpoint))
    hcloud.set_knobs(storm_429=STORM, error_rate=0.1, create_then_fail=2, seed=7)
    done = threading.Event()
    watcher = threading.Thread(target=second_storm_at_first_create, args=(hcloud, done), daemon=True)
    watcher.start()
    try:
        applied = cli.run("apply", "--auto-approve", code=None)
    finally:
        done.set()
        watcher.join(timeout=10)
    assert applied.code == 0, applied.explain()
    assert "Apply complete: 7 done, 0 failed" in applied.stdout
    knobs = hcloud.world.knobs
    assert knobs.storm_429 == 0 and knobs.create_then_fail == 0  # both storms and both bad answers happened
    assert hcloud.request_counts["POST /servers"] > len(NODES)  # retries were needed

    state = cli.state()
    assert hcloud_problems(hcloud, state) == []
    servers = owned_servers(hcloud, state["lineage"])
    assert sorted(s["name"] for s in servers) == sorted(NODES)
    assert len(hcloud.servers()) == len(NODES)  # created once each: nothing else exists
    assert all(s["status"] == "running" for s in servers)
    assert [k["name"] for k in hcloud.ssh_keys()] == ["admin"]
    assert state["resources"]["hcloud_ssh_key.admin"]["id"] == str(hcloud.ssh_keys()[0]["id"])

    replan = cli.run("plan", "--detailed-exitcode", code=None)  # still 10 % 5xx: the refresh retries them
    assert replan.code == 0, replan.explain()


def test_a_503_after_a_run_of_429s_is_still_retried(cli: Cli, hcloud: Emulator) -> None:
    cli.write(hcloud_provider(hcloud.endpoint) + """
resource "hcloud_server" "one" {
  name        = "one"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
}
""")
    cli.run("plan", "--out", "p")
    # applying a saved plan does not refresh: its first request is the POST /servers, which now meets 10 x 429,
    # then is served (the server is made) but answered 503 (a retry then meets uniqueness_error and adopts it)
    hcloud.set_knobs(storm_429=10, create_then_fail=1)
    applied = cli.run("apply", "p", code=None)
    assert hcloud.world.knobs.storm_429 == 0 and hcloud.world.knobs.create_then_fail == 0
    assert [s["name"] for s in hcloud.servers()] == ["one"]
    assert applied.code == 0, applied.explain()
    state = cli.state()
    assert hcloud_problems(hcloud, state) == []
    assert state["resources"]["hcloud_server.one"]["id"] == str(hcloud.servers()[0]["id"])
