"""The apply's state writer: inside an event loop, changes made together reach the disk in one grouped write,
`durable()` returns only once they are on disk, and a failed write reaches every step waiting for it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from reconciler.apply.journal import StateWriter
from reconciler.errors import StateError
from reconciler.state.document import ResourceState, StateDoc
from reconciler.state.local import LocalBackend


class SlowBackend(LocalBackend):
    """Counts writes and holds each until the test lets it finish."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[StateDoc] = []
        self.gate = threading.Event()
        self.fail = False

    def write(self, doc: StateDoc, *, base: StateDoc | None = None) -> StateDoc:
        self.gate.wait(5)
        if self.fail:
            raise StateError("disk full")
        self.writes.append(doc)
        return super().write(doc)


def res(i: int) -> ResourceState:
    return ResourceState(f"hcloud_server.s[{i}]", "hcloud_server", str(i), {"name": f"s{i}"})


def test_outside_a_loop_every_change_is_written_at_once(tmp_path: Path) -> None:
    backend = SlowBackend(tmp_path / "s.json")
    backend.gate.set()
    writer = StateWriter(backend, StateDoc.new())
    writer.put(res(1))
    writer.put(res(2))
    assert len(backend.writes) == 2
    assert writer.doc.serial == 2  # the written document, with the serial the backend gave it


def test_changes_made_together_share_one_write_and_durable_waits_for_it(tmp_path: Path) -> None:
    backend = SlowBackend(tmp_path / "s.json")
    writer = StateWriter(backend, StateDoc.new())

    async def go() -> list[int]:
        async def step(i: int) -> int:
            writer.put(res(i))
            await writer.durable()
            return len(backend.writes)  # how many writes had finished when this step went on

        tasks = [asyncio.create_task(step(i)) for i in range(200)]
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in tasks)  # nothing is on disk yet: no step went on
        backend.gate.set()
        return list(await asyncio.gather(*tasks))

    seen = asyncio.run(go())
    writer.close()
    assert len(backend.writes) <= 2  # the first change's write, then one for the 199 made while it ran
    assert all(n >= 1 for n in seen)
    on_disk = LocalBackend(tmp_path / "s.json").read()
    assert sorted(on_disk.resources) == sorted(r.address for r in map(res, range(200)))


def test_a_failed_write_reaches_every_waiting_step(tmp_path: Path) -> None:
    backend = SlowBackend(tmp_path / "s.json")
    backend.fail = True
    backend.gate.set()
    writer = StateWriter(backend, StateDoc.new())

    async def go() -> list[BaseException | None]:
        async def step(i: int) -> None:
            writer.put(res(i))
            await writer.durable()

        return list(await asyncio.gather(*(step(i) for i in range(3)), return_exceptions=True))

    outcomes = asyncio.run(go())
    assert all(isinstance(o, StateError) and "disk full" in str(o) for o in outcomes)
    with pytest.raises(StateError):
        writer.close()


def test_close_writes_what_an_interrupted_walk_left(tmp_path: Path) -> None:
    backend = SlowBackend(tmp_path / "s.json")
    backend.gate.set()
    writer = StateWriter(backend, StateDoc.new())

    async def go() -> None:
        writer.put(res(1))  # no one awaits durable(): the walk was cancelled right after
        writer.put(res(2))

    asyncio.run(go())
    writer.close()
    assert sorted(LocalBackend(tmp_path / "s.json").read().resources) == ["hcloud_server.s[1]", "hcloud_server.s[2]"]


def test_the_write_ahead_executor_starts_its_threads_before_the_steps_call(tmp_path: Path) -> None:
    """`warm(n)` starts n worker threads (at most max_workers) at once; a call submitted after a change still
    waits until the change is on disk."""
    from reconciler.apply.journal import WriteAheadExecutor

    backend = SlowBackend(tmp_path / "s.json")
    writer = StateWriter(backend, StateDoc.new())
    executor = WriteAheadExecutor(writer, max_workers=6)
    try:
        executor.warm(10)
        assert len([t for t in threading.enumerate() if t.name.startswith("apply-step")]) == 6
        writer.doc = writer.doc.with_resource(res(1))
        writer._changed += 1  # a change not on disk yet (as `update` inside a loop leaves it)
        seen: list[int] = []
        call = executor.submit(lambda: seen.append(len(backend.writes)))
        backend.gate.set()
        writer.flush()
        call.result(5)
        assert seen == [1]  # the call ran only after the write
    finally:
        executor.shutdown(wait=True)
        writer.close()


def test_the_state_text_is_the_indented_json_of_the_document() -> None:
    """`dumps` assembles the text from each resource's cached part: it must stay exactly what
    `json.dumps(to_json(), indent=2)` writes (nested, empty, non-ASCII and escaped values, outputs)."""
    import json

    def reference(d: StateDoc) -> str:
        return json.dumps(d.to_json(), indent=2) + "\n"

    doc = StateDoc.new()
    assert doc.dumps() == reference(doc)
    odd = ResourceState("hcloud_server.s[\"é\"]", "hcloud_server", None,
                        {"labels": {}, "ssh_keys": [], "user_data": "line\n\"quoted\" ü", "n": [1, {"a": None}]},
                        {"unobserved": []}, ("hcloud_ssh_key.k",), {"action": "create", "started": 1.5})
    doc = doc.with_resource(odd).with_resource(res(2)).with_outputs(
        {"ips": {"value": {"a": ["10.0.0.1"]}, "sensitive": False}, "none": {"value": {}, "sensitive": True}})
    assert doc.dumps() == reference(doc)
    changed = doc.with_resource(ResourceState(odd.address, odd.type, "7", {"name": "x"}))
    assert changed.dumps() == reference(changed)  # a new value of an address is written anew
