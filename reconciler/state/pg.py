"""The `pg` backend: one row per workspace in PostgreSQL, locked with a session advisory lock.

Table `<schema_name>.states (workspace, lineage, serial, data, updated)`; the lock is
`pg_try_advisory_lock(hashtext(schema.workspace))` taken on a connection held for the whole operation, and
its lock info (id, who, operation, created, the backend pid) is kept in `<schema_name>.locks` so that other
users see who holds it. `force_unlock` ends the holder's session (which releases an advisory lock) and
removes the row. Writes are one transaction each; `serial` moves only when the content changed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
from psycopg import sql

from reconciler.errors import StateError, StateLockedError
from reconciler.state.backend import LockInfo
from reconciler.state.document import StateDoc

WORKSPACE = "default"


class PgBackend:
    def __init__(self, conn_str: str, schema_name: str = "reconciler", workspace: str = WORKSPACE) -> None:
        self.conn_str = conn_str
        self.schema = schema_name
        self.workspace = workspace
        self._lock_conn: psycopg.Connection[Any] | None = None
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
        return StateDoc.loads(json.dumps(row[0]), self.describe())

    def write(self, doc: StateDoc) -> StateDoc:
        with self._connect() as conn:
            self._ensure(conn)
            with conn.transaction():
                row = conn.execute(sql.SQL("SELECT data FROM {}.states WHERE workspace = %s FOR UPDATE").format(
                    sql.Identifier(self.schema)), (self.workspace,)).fetchone()
                previous = StateDoc.loads(json.dumps(row[0]), self.describe()) if row else None
                new = doc.bump_if_changed(previous)
                if previous is not None and new.serial == previous.serial:
                    return new
                conn.execute(sql.SQL(
                    "INSERT INTO {}.states (workspace, lineage, serial, data) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (workspace) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, "
                    "data = EXCLUDED.data, updated = now()").format(sql.Identifier(self.schema)),
                    (self.workspace, new.lineage, new.serial, json.dumps(new.to_json())))
        return new

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
        self._lock_conn = conn
        return info

    def unlock(self, info: LockInfo) -> None:
        conn = self._lock_conn
        if conn is None:
            return
        try:
            conn.execute(sql.SQL("DELETE FROM {}.locks WHERE workspace = %s AND info->>'id' = %s").format(
                sql.Identifier(self.schema)), (self.workspace, info.id))
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._key(),))
        finally:
            conn.close()
            self._lock_conn = None

    def force_unlock(self, lock_id: str) -> None:
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
