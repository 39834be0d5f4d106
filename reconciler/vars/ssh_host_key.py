"""The built-in `ssh_host_key` generator: an ed25519 host key made in Python, its private half a secret (age)
and its public half a public value, so that every (re)install hands the same key to the installer and every
SSH connection can pin it."""

from __future__ import annotations

from reconciler.vars.store import VarsStore

GENERATOR = "ssh_host_key"
PRIVATE_FILE = "ssh_host_ed25519_key"
PUBLIC_FILE = "ssh_host_ed25519_key.pub"


def generate_keypair() -> tuple[bytes, str]:
    """(OpenSSH private key PEM, "ssh-ed25519 AAAA..." public key)."""
    # imported here: a plan reads public keys and never makes one (cryptography takes 12 ms to import)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def public_host_key(store: VarsStore, machine: str) -> str | None:
    """The machine's public host key ("ssh-ed25519 AAAA..."), or None before it was generated."""
    value = store.get_public(machine, GENERATOR, PUBLIC_FILE)
    return value.strip() if value else None


def ensure_host_key(store: VarsStore, machine: str, *, regenerate: bool = False) -> str:
    """Generate the machine's host key unless both halves exist; returns the public key."""
    existing = public_host_key(store, machine)
    if existing and store.has_secret(machine, GENERATOR, PRIVATE_FILE) and not regenerate:
        return existing
    private, public = generate_keypair()
    # the secret first: a public key without its private half would be pinned for a key nobody has
    store.set_secret(machine, GENERATOR, PRIVATE_FILE, private, extra_recipients=[public])
    store.set_public(machine, GENERATOR, PUBLIC_FILE, public + "\n")
    return public


def private_host_key(store: VarsStore, machine: str) -> bytes:
    """The decrypted private key, for the installer's extra files only (never logged, never in state)."""
    return store.get_secret(machine, GENERATOR, PRIVATE_FILE)
