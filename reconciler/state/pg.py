"""The `pg` backend: one row per workspace in PostgreSQL, locked with a session advisory lock.

Table `<schema_name>.states (workspace, lineage, serial, data, updated)`; the lock is
`pg_try_advisory_lock(hashtext(schema.workspace))` taken on a connection held for the whole operation, and
its lock info (id, who, operation, created, the backend pid) is kept in `<schema_name>.locks` so that other
users see who holds it. `force_unlock` ends the holder's session (which releases an advisory lock) and
removes the row. Writes are one transaction each; `serial` moves only when the content changed. A write is
a compare-and-swap: in the same transaction the lock row must still carry this run's lock id and the stored
serial and lineage must be the ones it read, so a holder that was force-unlocked cannot write a stale
snapshot over newer state.
"""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
from psycopg import sql

from reconciler.errors import StateError, StateLockedError
from reconciler.state.backend import LockInfo, check_base, lock_lost
from reconciler.state.document import StateDoc

WORKSPACE = "default"


class PgBackend:
    def __init__(self, conn_str: str, schema_name: str = "reconciler", workspace: str = WORKSPACE) -> None:
        self.conn_str = conn_str
        self.schema = schema_name
        self.workspace = workspace
        self._lock_conn: psycopg.Connection[Any] | None = None
        self._lock_info: LockInfo | None = None
        self._seen: StateDoc | None = None  # the state as we last read or wrote it
        self._ready = False

    def describe(self) -> str:
        return f"pg state {self.schema}.states[{self.workspace}]"

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.conn_str, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else "connection failed"
            raise StateError(f"cannot connect to the pg backend: {first}",
                             hint="check terraform { backend \"pg\" { conn_str } }") from None

    def _ensure(self, conn: psycopg.Connection[Any]) -> None:
        if self._ready:
            return
        s = sql.Identifier(self.schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s))
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.states (workspace text PRIMARY KEY, lineage text NOT NULL,"
                             " serial bigint NOT NULL, data jsonb NOT NULL, updated timestamptz NOT NULL DEFAULT now())"
                             ).format(s))
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.locks (workspace text PRIMARY KEY, info jsonb NOT NULL,"
                             " pid integer NOT NULL)").format(s))
        self._ready = True

    def read(self) -> StateDoc:
        with self._connect() as conn:
            self._ensure(conn)
            row = conn.execute(sql.SQL("SELECT data FROM {}.states WHERE workspace = %s").format(
                sql.Identifier(self.schema)), (self.workspace,)).fetchone()
        if row is None:
            return StateDoc.new()
        doc = StateDoc.loads(json.dumps(row[0]), self.describe())
        self._seen = doc
        return doc

    def write(self, doc: StateDoc, *, base: StateDoc | None = None) -> StateDoc:
        """One transaction: the lock row must still be ours and the stored serial/lineage the ones `base`
        names (compare-and-swap), else StateConflictError and nothing is written."""
        try:
            with self._connect() as conn:
                self._ensure(conn)
                with conn.transaction():
                    self._check_lock(conn)
                    row = conn.execute(sql.SQL("SELECT lineage, serial FROM {}.states WHERE workspace = %s "
                                               "FOR UPDATE").format(sql.Identifier(self.schema)),
                                       (self.workspace,)).fetchone()
                    check_base(base or doc, row[0] if row else None, row[1] if row else None, self.describe())
                    previous = self._previous(conn, row)
                    new = doc.bump_if_changed(previous)
                    if previous is not None and new.serial == previous.serial:
                        return new
                    conn.execute(sql.SQL(
                        "INSERT INTO {}.states (workspace, lineage, serial, data) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (workspace) DO UPDATE SET lineage = EXCLUDED.lineage, "
                        "serial = EXCLUDED.serial, data = EXCLUDED.data, updated = now()").format(
                        sql.Identifier(self.schema)),
                        (self.workspace, new.lineage, new.serial, json.dumps(new.to_json())))
        except psycopg.Error as e:
            raise StateError(f"cannot write {self.describe()}: {_first_line(e)}; the last good state is unchanged",
                             hint="check the database, then run reconciler plan") from None
        self._seen = new
        return new

    def _previous(self, conn: psycopg.Connection[Any], row: Any) -> StateDoc | None:
        """The stored document: the one we last read or wrote when serial and lineage match, else fetched."""
        if row is None:
            return None
        seen = self._seen
        if seen is not None and (seen.lineage, seen.serial) == (row[0], row[1]):
            return seen
        data = conn.execute(sql.SQL("SELECT data FROM {}.states WHERE workspace = %s").format(
            sql.Identifier(self.schema)), (self.workspace,)).fetchone()
        return StateDoc.loads(json.dumps(data[0]), self.describe()) if data else None

    def _check_lock(self, conn: psycopg.Connection[Any]) -> None:
        """A writer that took the lock must still hold it (force-unlock deletes or replaces the lock row)."""
        if self._lock_info is None:
            return
        row = conn.execute(sql.SQL("SELECT info FROM {}.locks WHERE workspace = %s FOR UPDATE").format(
            sql.Identifier(self.schema)), (self.workspace,)).fetchone()
        if row is None or row[0].get("id") != self._lock_info.id:
            raise lock_lost(self.describe(), self._lock_info.id, LockInfo(**row[0]) if row else None)

    def _key(self) -> str:
        return f"{self.schema}.{self.workspace}"

    def _holder(self, conn: psycopg.Connection[Any]) -> LockInfo | None:
        row = conn.execute(sql.SQL("SELECT info FROM {}.locks WHERE workspace = %s").format(
            sql.Identifier(self.schema)), (self.workspace,)).fetchone()
        return LockInfo(**row[0]) if row else None

    def lock(self, operation: str, timeout: float = 0.0) -> LockInfo:
        info = LockInfo.new(operation)
        conn = self._connect()
        self._ensure(conn)
        deadline = time.monotonic() + timeout
        while True:
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._key(),)).fetchone()
            if got and got[0]:
                break
            if time.monotonic() >= deadline:
                holder = self._holder(conn)
                conn.close()
                detail = holder.describe() if holder else "by another session"
                raise StateLockedError(f"state is locked: {detail}",
                                       hint=f"wait, pass --lock-timeout, or run: reconciler force-unlock "
                                            f"{holder.id if holder else 'LOCK_ID'}")
            time.sleep(0.2)
        conn.execute(sql.SQL("INSERT INTO {}.locks (workspace, info, pid) VALUES (%s, %s, pg_backend_pid()) "
                             "ON CONFLICT (workspace) DO UPDATE SET info = EXCLUDED.info, pid = EXCLUDED.pid").format(
            sql.Identifier(self.schema)), (self.workspace, json.dumps(info.__dict__)))
        self._lock_conn, self._lock_info = conn, info
        return info

    def unlock(self, info: LockInfo) -> None:
        conn = self._lock_conn
        if conn is None:
            return
        try:
            conn.execute(sql.SQL("DELETE FROM {}.locks WHERE workspace = %s AND info->>'id' = %s").format(
                sql.Identifier(self.schema)), (self.workspace, info.id))
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._key(),))
        except psycopg.Error:
            pass  # force-unlock ended our session: the advisory lock went with it, the row is not ours
        finally:
            conn.close()
            self._lock_conn, self._lock_info = None, None

    def force_unlock(self, lock_id: str) -> LockInfo:
        with self._connect() as conn:
            self._ensure(conn)
            row = conn.execute(sql.SQL("SELECT info, pid FROM {}.locks WHERE workspace = %s").format(
                sql.Identifier(self.schema)), (self.workspace,)).fetchone()
            if row is None:
                raise StateError("the state is not locked", hint="nothing to unlock")
            holder = LockInfo(**row[0])
            if holder.id != lock_id:
                raise StateError(f"lock id {lock_id} does not match the current lock ({holder.describe()})")
            conn.execute("SELECT pg_terminate_backend(%s)", (row[1],))
            conn.execute(sql.SQL("DELETE FROM {}.locks WHERE workspace = %s").format(sql.Identifier(self.schema)),
                         (self.workspace,))
        return holder


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
