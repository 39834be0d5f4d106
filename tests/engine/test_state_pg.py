"""The pg backend against a real PostgreSQL: serial discipline, advisory lock with lock info, force-unlock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.errors import StateError, StateLockedError
from reconciler.sandbox.netns import hosts_required
from reconciler.state.document import ResourceState, StateDoc
from reconciler.state.pg import PgBackend
from tests.pg import postgres, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None and not hosts_required(),
                                reason=str(unavailable_reason()))


@pytest.fixture(scope="module")
def conn_str() -> Iterator[str]:
    with postgres() as dsn:
        yield dsn


def test_roundtrip_and_serial(conn_str: str) -> None:
    b = PgBackend(conn_str, "t_roundtrip")
    doc = b.read()
    assert not doc.exists
    first = b.write(doc.with_resource(ResourceState("hcloud_server.a", "hcloud_server", "7", {"name": "a"})))
    assert first.serial == 1
    assert b.write(first).serial == 1
    again = PgBackend(conn_str, "t_roundtrip").read()
    assert again.lineage == doc.lineage and again.resources["hcloud_server.a"].id == "7"
    assert b.write(again.without("hcloud_server.a")).serial == 2


def test_workspaces_are_separate_rows(conn_str: str) -> None:
    a = PgBackend(conn_str, "t_ws", workspace="a")
    b = PgBackend(conn_str, "t_ws", workspace="b")
    a.write(StateDoc.new().with_resource(ResourceState("x.y", "hcloud_server", "1")))
    assert b.read().resources == {}


def test_lock_is_exclusive_names_holder_and_can_be_forced(conn_str: str) -> None:
    holder = PgBackend(conn_str, "t_lock")
    info = holder.lock("apply", 0)
    other = PgBackend(conn_str, "t_lock")
    with pytest.raises(StateLockedError) as err:
        other.lock("plan", 0.3)
    assert info.id in str(err.value.hint) and "apply" in err.value.message
    with pytest.raises(StateError, match="does not match"):
        other.force_unlock("wrong")
    other.force_unlock(info.id)
    taken = other.lock("plan", 2.0)
    other.unlock(taken)


def test_unlock_releases(conn_str: str) -> None:
    b = PgBackend(conn_str, "t_unlock")
    b.unlock(b.lock("plan", 0))
    b.unlock(b.lock("plan", 0))


def test_bad_connection_is_one_clear_error() -> None:
    with pytest.raises(StateError, match="cannot connect to the pg backend"):
        PgBackend("host=/nonexistent-socket-dir dbname=x connect_timeout=1").read()
