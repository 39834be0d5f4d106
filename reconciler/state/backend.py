"""What every state backend offers: read, write (atomic, serial-aware), and a lock with lock info."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from reconciler.errors import StateConflictError
from reconciler.state.document import StateDoc


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state lock, for what, since when."""
    id: str
    who: str
    operation: str
    created: str

    @staticmethod
    def new(operation: str) -> LockInfo:
        import getpass  # these here: only a command that takes the lock (not validate) names its holder
        import socket
        import uuid
        from datetime import UTC, datetime

        return LockInfo(id=str(uuid.uuid4()), who=f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()})",
                        operation=operation, created=datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        return f"lock {self.id} held by {self.who} for {self.operation} since {self.created}"


def check_base(base: StateDoc, stored_lineage: str | None, stored_serial: int | None, where: str) -> None:
    """Compare-and-swap: a write replaces exactly the state it was made from (`base`), or is refused."""
    if stored_lineage is None:
        if base.exists:
            raise StateConflictError(f"{where}: the state this run read (serial {base.serial}) is gone; "
                                     "this write was refused", hint="run reconciler plan again")
        return
    if not base.exists or base.lineage != stored_lineage or base.serial != stored_serial:
        seen = f"serial {base.serial}" if base.exists else "no state"
        raise StateConflictError(f"{where}: the state moved to serial {stored_serial} (lineage "
                                 f"{stored_lineage[:8]}) since this run read {seen}; this write was refused",
                                 hint="another process wrote it; run reconciler plan again")


def lock_lost(where: str, lock_id: str, holder: LockInfo | None) -> StateConflictError:
    """The refusal of a write whose lock (`lock_id`) force-unlock released; `holder` holds it now, if any."""
    now = f"; it is now {holder.describe()}" if holder else ""
    return StateConflictError(f"{where}: this run's lock {lock_id} was released by force-unlock{now}; "
                              "this write was refused", hint="run reconciler plan again")


class Backend(Protocol):
    def read(self) -> StateDoc:
        """The current state, or a new empty one (exists=False) if none was written."""

    def write(self, doc: StateDoc, *, base: StateDoc | None = None) -> StateDoc:
        """Persist `doc` (serial bumped only if content changed); returns what was written.

        Compare-and-swap: the write replaces the state `base` (default: `doc` itself, i.e. its serial and
        lineage) and raises StateConflictError if the stored state moved or this process lost its lock.
        """

    def lock(self, operation: str, timeout: float) -> LockInfo:
        """Take the lock, waiting up to `timeout` seconds; StateLockedError names the holder."""

    def unlock(self, info: LockInfo) -> None: ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Release a stale lock whose id is `lock_id`; returns who held it."""

    def describe(self) -> str: ...
