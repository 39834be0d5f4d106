"""The vars store and the ssh_host_key generator, on a temporary directory with a temporary age identity."""

from __future__ import annotations

from pathlib import Path

import pyrage
import pytest
from cryptography.hazmat.primitives import serialization

from reconciler.vars import (
    IDENTITY_ENV,
    SecretsError,
    VarsStore,
    ensure_host_key,
    private_host_key,
    public_host_key,
)


@pytest.fixture()
def identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "id" / "age-identity.txt"
    monkeypatch.setenv(IDENTITY_ENV, str(path))
    return path


def test_host_key_is_generated_once_and_kept(tmp_path: Path, identity: Path) -> None:
    store = VarsStore(tmp_path / "vars")
    assert public_host_key(store, "cinnabar") is None
    public = ensure_host_key(store, "cinnabar")
    assert public.startswith("ssh-ed25519 ")
    assert identity.exists() and identity.stat().st_mode & 0o777 == 0o600
    assert ensure_host_key(store, "cinnabar") == public
    assert public_host_key(store, "cinnabar") == public
    pub_file = tmp_path / "vars/per-machine/cinnabar/ssh_host_key/ssh_host_ed25519_key.pub/value"
    secret_file = tmp_path / "vars/per-machine/cinnabar/ssh_host_key/ssh_host_ed25519_key/secret"
    assert pub_file.read_text().strip() == public
    raw = secret_file.read_bytes()
    assert raw.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert b"OPENSSH PRIVATE KEY" not in raw
    private = private_host_key(store, "cinnabar")
    key = serialization.load_ssh_private_key(private, password=None)
    derived = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert derived.decode() == public
    assert [(f.generator, f.file, f.secret) for f in store.files("cinnabar")] == [
        ("ssh_host_key", "ssh_host_ed25519_key", True), ("ssh_host_key", "ssh_host_ed25519_key.pub", False)]


def test_regenerate_makes_a_new_key(tmp_path: Path, identity: Path) -> None:
    store = VarsStore(tmp_path / "vars")
    first = ensure_host_key(store, "a")
    assert ensure_host_key(store, "a", regenerate=True) != first


def test_secret_is_readable_by_recipients_and_not_by_others(tmp_path: Path, identity: Path) -> None:
    admin = pyrage.x25519.Identity.generate()
    store = VarsStore(tmp_path / "vars", recipients=[str(admin.to_public())])
    ensure_host_key(store, "m")
    secret = (tmp_path / "vars/per-machine/m/ssh_host_key/ssh_host_ed25519_key/secret").read_bytes()
    assert b"OPENSSH PRIVATE KEY" in pyrage.decrypt(secret, [admin])
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(str(pyrage.x25519.Identity.generate()) + "\n")
    with pytest.raises(SecretsError, match="cannot decrypt"):
        VarsStore(tmp_path / "vars", identity_file=stranger).get_secret("m", "ssh_host_key", "ssh_host_ed25519_key")


def test_bad_names_and_recipients_are_refused(tmp_path: Path, identity: Path) -> None:
    store = VarsStore(tmp_path / "vars", recipients=["age1notakey"])
    with pytest.raises(SecretsError):
        store.set_public("../etc", "g", "f", "x")
    with pytest.raises(SecretsError, match="recipient"):
        ensure_host_key(store, "m")
