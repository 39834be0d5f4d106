"""The on-disk vars store (CONTRACT §3): `vars/per-machine/MACHINE/GENERATOR/FILE/value` for public values and
`.../FILE/secret` (age, armored) for secrets, each written atomically. Secrets are encrypted to the
configured `secrets.recipients`, the reading identity's own key and any extra recipients the caller adds
(a machine's host key); plaintext never touches the disk. Values are never logged or returned in reprs."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.vars import age

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")


@dataclass(frozen=True)
class VarFile:
    machine: str
    generator: str
    file: str
    secret: bool


def _check(kind: str, name: str) -> str:
    if not _SAFE.match(name) or name in (".", ".."):
        raise age.SecretsError(f"invalid {kind} name for the vars store: {name!r}")
    return name


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class VarsStore:
    """Per-machine vars under `root` (the configuration directory's `vars/`)."""

    def __init__(self, root: Path, recipients: Sequence[str] = (), identity_file: Path | None = None) -> None:
        self.root = root
        self.recipients = tuple(recipients)
        self.identity_file = identity_file

    def __repr__(self) -> str:
        return f"VarsStore({str(self.root)!r})"

    def _dir(self, machine: str, generator: str, file: str) -> Path:
        return (self.root / "per-machine" / _check("machine", machine) / _check("generator", generator)
                / _check("file", file))

    def public_path(self, machine: str, generator: str, file: str) -> Path:
        return self._dir(machine, generator, file) / "value"

    def secret_path(self, machine: str, generator: str, file: str) -> Path:
        return self._dir(machine, generator, file) / "secret"

    def get_public(self, machine: str, generator: str, file: str) -> str | None:
        path = self.public_path(machine, generator, file)
        return path.read_text() if path.exists() else None

    def set_public(self, machine: str, generator: str, file: str, value: str) -> None:
        _atomic_write(self.public_path(machine, generator, file), value.encode(), 0o644)

    def has_secret(self, machine: str, generator: str, file: str) -> bool:
        return self.secret_path(machine, generator, file).exists()

    def set_secret(self, machine: str, generator: str, file: str, value: bytes,
                   extra_recipients: Sequence[str] = ()) -> None:
        ident = age.ensure_identity(self.identity_file)
        recipients = [*self.recipients, *age.identity_recipients(ident), *extra_recipients]
        _atomic_write(self.secret_path(machine, generator, file), age.encrypt(value, recipients), 0o600)

    def get_secret(self, machine: str, generator: str, file: str) -> bytes:
        path = self.secret_path(machine, generator, file)
        if not path.exists():
            raise age.SecretsError(f"no secret {generator}/{file} for machine {machine}")
        return age.decrypt(path.read_bytes(), self.identity_file)

    def files(self, machine: str) -> list[VarFile]:
        base = self.root / "per-machine" / _check("machine", machine)
        out = []
        for path in sorted(base.glob("*/*/*")):
            if path.name in ("value", "secret"):
                out.append(VarFile(machine, path.parent.parent.name, path.parent.name, path.name == "secret"))
        return out
