"""The local backend: `reconciler.state.json` in the configuration directory.

Writes are atomic (temp file, fsync, rename, fsync of the folder), mode 0600, and keep the state as it was
before this run as `.backup` (written once per run, not before every step). The lock is an fcntl lock on
`<state>.lock`, with the lock info (id, who, operation, created) written into that file and removed on
unlock; `force_unlock` removes a stale one, so the next locker locks a new inode.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from reconciler.errors import StateError, StateLockedError
from reconciler.state.backend import LockInfo
from reconciler.state.document import StateDoc


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


class LocalBackend:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.backup_path = path.with_name(path.name + ".backup")
        self._lock_fd: int | None = None
        self._written: StateDoc | None = None
        self._backed_up = False  # the state as it was before this run is kept once, not before every step

    def describe(self) -> str:
        return f"local state {self.path}"

    def read(self) -> StateDoc:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return StateDoc.new()
        except OSError as e:
            raise StateError(f"cannot read state {self.path}: {e.strerror}") from None
        doc = StateDoc.loads(text, str(self.path))
        self._written = doc
        return doc

    def write(self, doc: StateDoc) -> StateDoc:
        previous = self._written
        if previous is None and self.path.exists():
            previous = StateDoc.loads(self.path.read_text(encoding="utf-8"), str(self.path))
        new = doc.bump_if_changed(previous)
        if previous is not None and previous.exists and new.serial == previous.serial:
            return new
        if not self._backed_up and self.path.exists():
            atomic_write(self.backup_path, self.path.read_text(encoding="utf-8"))
            self._backed_up = True
        atomic_write(self.path, new.dumps())
        self._written = new
        return new

    # ------------------------------------------------------------------------------------------- locking
    def _holder(self) -> LockInfo | None:
        try:
            data = json.loads(self.lock_path.read_text(encoding="utf-8") or "{}")
            return LockInfo(**data)
        except (OSError, ValueError, TypeError):
            return None

    def lock(self, operation: str, timeout: float = 0.0) -> LockInfo:
        info = LockInfo.new(operation)
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    holder = self._holder()
                    detail = holder.describe() if holder else "by another process"
                    raise StateLockedError(f"state is locked: {detail}",
                                           hint=f"wait, pass --lock-timeout, or run: reconciler force-unlock "
                                                f"{holder.id if holder else 'LOCK_ID'}") from None
                time.sleep(0.1)
                continue
            # the file we locked must still be the one at the path (force-unlock may have replaced it)
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info.__dict__).encode(), 0)
            os.fsync(fd)
            self._lock_fd = fd
            return info

    def unlock(self, info: LockInfo) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            if (self._holder() or info).id == info.id:
                # safe while we hold the lock: a waiting locker re-checks the inode after it gets the lock
                self.lock_path.unlink()
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        os.close(self._lock_fd)
        self._lock_fd = None

    def force_unlock(self, lock_id: str) -> None:
        holder = self._holder()
        if holder is None:
            raise StateError("the state is not locked", hint="nothing to unlock")
        if holder.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current lock ({holder.describe()})")
        self.lock_path.unlink(missing_ok=True)
