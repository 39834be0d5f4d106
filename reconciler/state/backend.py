"""What every state backend offers: read, write (atomic, serial-aware), and a lock with lock info."""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from reconciler.state.document import StateDoc


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str
    operation: str
    created: str

    @staticmethod
    def new(operation: str) -> LockInfo:
        return LockInfo(id=str(uuid.uuid4()), who=f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()})",
                        operation=operation, created=datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        return f"lock {self.id} held by {self.who} for {self.operation} since {self.created}"


class Backend(Protocol):
    def read(self) -> StateDoc:
        """The current state, or a new empty one (exists=False) if none was written."""

    def write(self, doc: StateDoc) -> StateDoc:
        """Persist `doc` (serial bumped only if content changed); returns what was written."""

    def lock(self, operation: str, timeout: float) -> LockInfo:
        """Take the lock, waiting up to `timeout` seconds; StateLockedError names the holder."""

    def unlock(self, info: LockInfo) -> None: ...

    def force_unlock(self, lock_id: str) -> None:
        """Release a stale lock whose id is `lock_id`."""

    def describe(self) -> str: ...
