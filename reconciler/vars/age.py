"""age encryption for vars secrets (pyrage): who may read (recipients: `age1...` keys and `ssh-ed25519` host
keys) and who reads here (the identity file from RECONCILER_AGE_IDENTITY, default
~/.config/reconciler/age-identity.txt, made on first use when it does not exist yet)."""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyrage

from reconciler.errors import ReconcilerError

IDENTITY_ENV = "RECONCILER_AGE_IDENTITY"
DEFAULT_IDENTITY = Path("~/.config/reconciler/age-identity.txt")


class SecretsError(ReconcilerError):
    """A secret could not be encrypted or decrypted (bad recipient, wrong or missing identity)."""


def identity_path() -> Path:
    env = os.environ.get(IDENTITY_ENV)
    return Path(env).expanduser() if env else DEFAULT_IDENTITY.expanduser()


def _identity_lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip().startswith("AGE-SECRET-KEY-")]


def ensure_identity(path: Path | None = None) -> Path:
    """The identity file, created (mode 0600) with a fresh x25519 key when it does not exist."""
    path = path or identity_path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    ident = pyrage.x25519.Identity.generate()
    created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"# created: {created}\n# public key: {ident.to_public()}\n{ident}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return path


def identities(path: Path | None = None) -> list[Any]:
    path = path or identity_path()
    if not path.exists():
        raise SecretsError(f"no age identity at {path}",
                           hint=f"set {IDENTITY_ENV} to the admin's age identity file")
    keys = _identity_lines(path)
    if not keys:
        raise SecretsError(f"{path} holds no AGE-SECRET-KEY line")
    try:
        return [pyrage.x25519.Identity.from_str(k) for k in keys]
    except pyrage.IdentityError as exc:
        raise SecretsError(f"{path}: not an age identity: {exc}") from None


def identity_recipients(path: Path | None = None) -> list[str]:
    """The public keys (age1...) of the identity file, so that what we encrypt we can read back."""
    return [str(ident.to_public()) for ident in identities(path)]


def parse_recipient(text: str) -> Any:
    text = text.strip()
    try:
        if text.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(text)
        if text.startswith("ssh-"):
            return pyrage.ssh.Recipient.from_str(" ".join(text.split()[:2]))
    except pyrage.RecipientError as exc:
        raise SecretsError(f"not a valid age recipient: {text[:40]}...: {exc}") from None
    raise SecretsError(f"not an age recipient (age1... or ssh-ed25519 ...): {text[:40]}")


def encrypt(plaintext: bytes, recipients: Sequence[str]) -> bytes:
    unique = sorted({" ".join(r.split()[:2]) for r in recipients if r.strip()})
    if not unique:
        raise SecretsError("a secret needs at least one recipient")
    try:
        return bytes(pyrage.encrypt(plaintext, [parse_recipient(r) for r in unique], armored=True))
    except pyrage.EncryptError as exc:
        raise SecretsError(f"age encryption failed: {exc}") from None


def decrypt(ciphertext: bytes, path: Path | None = None) -> bytes:
    try:
        return bytes(pyrage.decrypt(ciphertext, identities(path)))
    except pyrage.DecryptError as exc:
        where = path or identity_path()
        raise SecretsError(f"cannot decrypt with the identity in {where}: {exc}",
                           hint="is this admin among secrets.recipients?") from None
