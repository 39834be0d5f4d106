"""Compare-and-swap writes of the local backend, and what a failed step leaves on its pending record."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.actions import Action
from reconciler.apply.hooks import NoHooks
from reconciler.apply.journal import StateWriter, pending_note
from reconciler.errors import StateConflictError
from reconciler.state.document import ResourceState, StateDoc
from reconciler.state.local import LocalBackend
from tests.engine.harness import apply, plan, state_of, write_config
from tests.fakes import Cloud


def _res(address: str) -> ResourceState:
    return ResourceState(address, "hcloud_server", "1", {"name": address})


def test_a_write_from_a_stale_read_is_refused_and_leaves_the_newer_state(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    LocalBackend(path).write(StateDoc.new().with_resource(_res("a.a")))
    slow, fast = LocalBackend(path), LocalBackend(path)
    stale = slow.read()
    newer = fast.write(fast.read().with_resource(_res("b.b")))
    with pytest.raises(StateConflictError, match="moved to serial 2"):
        slow.write(stale.with_resource(_res("c.c")))
    assert LocalBackend(path).read().resources.keys() == newer.resources.keys() == {"a.a", "b.b"}
    # a run that read the new state writes on top of it
    assert slow.write(slow.read().with_resource(_res("c.c"))).serial == 3


def test_a_fresh_write_over_someone_elses_first_state_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first, second = LocalBackend(path), LocalBackend(path)
    mine, theirs = first.read(), second.read()
    second.write(theirs.with_resource(_res("b.b")))
    with pytest.raises(StateConflictError):
        first.write(mine.with_resource(_res("a.a")))


def test_a_holder_whose_lock_was_forced_stops_writing_and_keeps_its_record(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    holder = LocalBackend(path)
    info = holder.lock("apply")
    writer = StateWriter(holder, holder.read(), keep_dir=tmp_path / "kept")
    writer.put(_res("a.a"))
    assert LocalBackend(path).force_unlock(info.id) == info
    with pytest.raises(StateConflictError, match="released by force-unlock"):
        writer.put(_res("b.b"))
    with pytest.raises(StateConflictError):  # and every later write, before any provider call
        writer.put(_res("c.c"))
    kept = list((tmp_path / "kept").iterdir())
    assert len(kept) == 1 and set(StateDoc.loads(kept[0].read_text(), "kept").resources) == {"a.a", "b.b"}
    assert set(LocalBackend(path).read().resources) == {"a.a"}
    holder.unlock(info)


def test_a_failed_step_says_so_on_its_pending_record(tmp_path: Path) -> None:
    d = write_config(tmp_path / "c", """
resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx22"
  image       = "debian-12"
}
""")
    world = Cloud(fail={"hcloud_server.web"})
    result, _ = apply(d, world, plan(d, world))
    assert "hcloud_server.web" in result.failed
    pending = state_of(d).resources["hcloud_server.web"].pending
    assert pending is not None and pending["outcome"] == "failed"
    assert pending_note(pending) == "pending: the last create failed here; the next apply retries it"
    assert "stopped midway" in pending_note({"action": "create"})  # what a kill -9 leaves


def test_a_run_whose_writes_are_refused_fails_its_steps_and_writes_no_outputs(tmp_path: Path) -> None:
    d = write_config(tmp_path / "c", """
resource "hcloud_server" "web" {
  count       = 2
  name        = "web-${count.index}"
  server_type = "cx22"
  image       = "debian-12"
}
output "names" {
  value = hcloud_server.web[*].name
}
""")
    world = Cloud()
    path = d / "reconciler.state.json"

    class Intruder(NoHooks):
        """Another process writes the state as the first step starts."""

        done = False

        def pre_step(self, address: str, action: Action) -> None:
            if not self.done:
                # the run's first writes go to disk in its writer thread: intrude after them, as another
                # process would
                deadline = time.monotonic() + 5
                while not path.exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
                other = LocalBackend(path)
                other.write(other.read().with_outputs({"theirs": {"value": 1}}))
                self.done = True

    result, _ = apply(d, world, plan(d, world), hooks=Intruder(), parallelism=1)
    assert sorted(result.failed) == ["hcloud_server.web[0]", "hcloud_server.web[1]"]
    assert all(isinstance(e, StateConflictError) for e in result.failed.values())
    assert world.objects == {}  # refused before any provider call: the intent is written first
    assert state_of(d).resources == {} and set(state_of(d).outputs) == {"theirs"}
