"""Per-machine vars: the on-disk store (public values and age-encrypted secrets) and the built-in generators
(for now `ssh_host_key`)."""

from reconciler.vars.age import IDENTITY_ENV, SecretsError, ensure_identity, identity_path
from reconciler.vars.ssh_host_key import ensure_host_key, generate_keypair, private_host_key, public_host_key
from reconciler.vars.store import VarFile, VarsStore

__all__ = ["IDENTITY_ENV", "SecretsError", "VarFile", "VarsStore", "ensure_host_key", "ensure_identity",
           "generate_keypair", "identity_path", "private_host_key", "public_host_key"]
