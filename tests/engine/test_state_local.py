"""The local state backend: atomic writes, mode 0600, backups, serial discipline and the lock."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.errors import StateError, StateLockedError
from reconciler.state.document import ResourceState, StateDoc
from reconciler.state.local import LocalBackend


def test_read_missing_gives_new_unwritten_state(tmp_path: Path) -> None:
    doc = LocalBackend(tmp_path / "s.json").read()
    assert doc.exists is False and doc.serial == 0 and doc.resources == {}
    assert not (tmp_path / "s.json").exists()


def test_write_is_0600_and_serial_moves_only_on_change(tmp_path: Path) -> None:
    b = LocalBackend(tmp_path / "s.json")
    doc = b.read()
    first = b.write(doc.with_resource(ResourceState("hcloud_server.a", "hcloud_server", "1", {"name": "a"})))
    assert first.serial == 1
    mode = stat.S_IMODE(os.stat(tmp_path / "s.json").st_mode)
    assert mode == 0o600
    same = b.write(first)
    assert same.serial == 1
    changed = b.write(first.with_resource(ResourceState("hcloud_server.b", "hcloud_server", "2")))
    assert changed.serial == 2
    on_disk = json.loads((tmp_path / "s.json").read_text())
    assert on_disk["serial"] == 2 and on_disk["lineage"] == doc.lineage
    assert set(on_disk["resources"]) == {"hcloud_server.a", "hcloud_server.b"}
    backup = json.loads((tmp_path / "s.json.backup").read_text())
    assert backup["serial"] == 1


def test_serial_follows_content_not_object_identity(tmp_path: Path) -> None:
    """A record rebuilt with the same content keeps the serial; a changed attribute, a pending record or an
    output moves it, whether or not the other records are the very objects last written."""
    b = LocalBackend(tmp_path / "s.json")
    base = b.write(b.read().with_resource(ResourceState("hcloud_server.a", "hcloud_server", "1", {"name": "a"}))
                   .with_resource(ResourceState("hcloud_server.b", "hcloud_server", "2", {"name": "b"})))
    rebuilt = base.with_resource(ResourceState("hcloud_server.a", "hcloud_server", "1", {"name": "a"}))
    assert b.write(rebuilt).serial == base.serial
    renamed = b.write(rebuilt.with_resource(ResourceState("hcloud_server.a", "hcloud_server", "1", {"name": "x"})))
    assert renamed.serial == base.serial + 1
    pending = b.write(renamed.with_resource(ResourceState("hcloud_server.a", "hcloud_server", "1", {"name": "x"},
                                                          pending={"action": "delete"})))
    assert pending.serial == base.serial + 2
    with_output = b.write(replace(pending, outputs={"ip": {"value": "10.0.0.1"}}))
    assert with_output.serial == base.serial + 3
    assert b.write(replace(with_output, outputs={"ip": {"value": "10.0.0.1"}})).serial == base.serial + 3
    assert json.loads((tmp_path / "s.json").read_text())["serial"] == base.serial + 3


def test_fresh_backend_object_keeps_serial_discipline(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    written = LocalBackend(path).write(StateDoc.new().with_resource(ResourceState("a.b", "hcloud_server", "1")))
    again = LocalBackend(path).write(written)
    assert again.serial == written.serial == 1


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text("{not json")
    with pytest.raises(StateError, match="not valid JSON"):
        LocalBackend(tmp_path / "s.json").read()


def test_no_temp_files_left_behind(tmp_path: Path) -> None:
    b = LocalBackend(tmp_path / "s.json")
    doc = b.read()
    for i in range(5):
        doc = b.write(doc.with_resource(ResourceState(f"x.r{i}", "hcloud_server", str(i))))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.json.backup"]


def _hold_lock_in_child(path: Path) -> subprocess.Popen[str]:
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from reconciler.state.local import LocalBackend
        b = LocalBackend(Path({str(path)!r}))
        info = b.lock("apply", 0)
        print(info.id, flush=True)
        time.sleep(60)
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_lock_names_the_holder_and_force_unlock_releases_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    child = _hold_lock_in_child(path)
    try:
        assert child.stdout is not None
        lock_id = child.stdout.readline().strip()
        b = LocalBackend(path)
        with pytest.raises(StateLockedError) as err:
            b.lock("plan", 0.2)
        assert lock_id in str(err.value.hint) and "apply" in err.value.message
        with pytest.raises(StateError, match="does not match"):
            b.force_unlock("not-the-id")
        b.force_unlock(lock_id)
        info = b.lock("plan", 0)
        assert info.id != lock_id
        b.unlock(info)
    finally:
        child.kill()
        child.wait()


def test_lock_released_when_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    child = _hold_lock_in_child(path)
    assert child.stdout is not None
    child.stdout.readline()
    child.kill()
    child.wait()
    b = LocalBackend(path)
    info = b.lock("plan", 1.0)
    b.unlock(info)


def test_the_nesting_bound_names_the_entry_that_nests_too_deep() -> None:
    """One walk bounds every entry; the entry past the bound is named, wherever it is among the others."""
    from reconciler.config.limits import MAX_NESTING
    from reconciler.state.validate import check

    def entry(depth: int) -> dict[str, object]:
        value: object = "leaf"
        for _ in range(depth):
            value = [value]
        return {"type": "hcloud_server", "id": "1", "attributes": {"x": value}}

    resources = {f"hcloud_server.s{i}": entry(3) for i in range(50)}
    doc = {"version": 1, "serial": 1, "lineage": "l", "resources": resources}
    check(doc, "s.json")  # shallow entries pass
    at_bound = {**resources, "hcloud_server.edge": entry(MAX_NESTING - 1)}  # the attributes object is a level too
    check({**doc, "resources": at_bound}, "s.json")
    too_deep = {**resources, "hcloud_server.s20": entry(MAX_NESTING)}
    with pytest.raises(StateError, match=rf"resources\.hcloud_server\.s20 nests more than {MAX_NESTING} levels"):
        check({**doc, "resources": too_deep}, "s.json")
