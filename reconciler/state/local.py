"""The local backend: `reconciler.state.json` in the configuration directory.

Writes are atomic (temp file, fsync, rename, fsync of the folder), mode 0600, and keep the state as it was
before this run as `.backup` (written once per run, not before every step). The lock is an fcntl lock on
`<state>.lock`, with the lock info (id, who, operation, created) written into that file and removed on
unlock; `force_unlock` removes a stale one, so the next locker locks a new inode. A write is a
compare-and-swap under the lock: the file must still be the one this run read or wrote (same serial and
lineage; re-read when it changed on disk) and the lock file still ours, else the write is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from reconciler.errors import StateError, StateLockedError
from reconciler.state.backend import LockInfo, check_base, lock_lost
from reconciler.state.document import StateDoc


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    # unique per call: two writers of one process (threads) must not share a temp file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
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
        self._lock_info: LockInfo | None = None
        self._written: StateDoc | None = None
        self._written_stat: tuple[int, int, int] | None = None  # the file as we last read or wrote it
        self._backed_up = False  # the state as it was before this run is kept once, not before every step

    def describe(self) -> str:
        return f"local state {self.path}"

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> StateDoc:
        try:
            stat_before = self._stat()
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return StateDoc.new()
        except OSError as e:
            raise StateError(f"cannot read state {self.path}: {e.strerror}") from None
        doc = StateDoc.loads(raw, str(self.path))
        self._written, self._written_stat = doc, stat_before
        return doc

    def _stored(self) -> StateDoc | None:
        """The state on disk now: what we last read or wrote if the file is unchanged, else read again."""
        stat_now = self._stat()
        if stat_now is None:
            return None
        if self._written is not None and stat_now == self._written_stat:
            return self._written
        return self.read()

    def write(self, doc: StateDoc, *, base: StateDoc | None = None) -> StateDoc:
        self._check_lock()
        current = self._stored()
        check_base(base or doc, current.lineage if current else None, current.serial if current else None,
                   str(self.path))
        new = doc.bump_if_changed(current)
        if current is not None and new.serial == current.serial:
            return new
        try:
            if not self._backed_up and current is not None:
                atomic_write(self.backup_path, self.path.read_text(encoding="utf-8"))
                self._backed_up = True
            atomic_write(self.path, new.dumps())
        except OSError as e:
            kept = f"the last good state (serial {current.serial}) is unchanged" if current else "nothing was written"
            raise StateError(f"cannot write state {self.path}: {e.strerror}; {kept}",
                             hint="free space or make the folder writable, then run reconciler plan") from None
        self._written, self._written_stat = new, self._stat()
        return new

    def _check_lock(self) -> None:
        """A writer that holds the lock still holds it: force-unlock removes the lock file (a new locker
        makes a new one), so the file at the path must be ours, with our lock id."""
        if self._lock_fd is None or self._lock_info is None:
            return
        try:
            same = os.fstat(self._lock_fd).st_ino == os.stat(self.lock_path).st_ino
        except FileNotFoundError:
            same = False
        holder = self._holder() if same else None
        if holder is None or holder.id != self._lock_info.id:
            raise lock_lost(str(self.path), self._lock_info.id, holder)

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
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as e:
                raise StateError(f"cannot lock state: {self.lock_path}: {e.strerror}",
                                 hint="plan --no-refresh reads the state without a lock") from None
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
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info.__dict__).encode(), 0)
                os.fsync(fd)
            except OSError as e:
                os.close(fd)
                raise StateError(f"cannot lock state: {self.lock_path}: {e.strerror}") from None
            self._lock_fd, self._lock_info = fd, info
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
        self._lock_fd, self._lock_info = None, None

    def force_unlock(self, lock_id: str) -> LockInfo:
        holder = self._holder()
        if holder is None:
            raise StateError("the state is not locked", hint="nothing to unlock")
        if holder.id != lock_id:
            raise StateError(f"lock id {lock_id} does not match the current lock ({holder.describe()})")
        self.lock_path.unlink(missing_ok=True)
        return holder
