"""NixOS machines over real SSH and real nix: the `nixos` provider (`nixos_machine`), plus what the CLI needs
around it (the pinned known_hosts, an install entry point, machine selection for `machines update`)."""

from providers.base import ProviderConfig
from reconciler.nixos.context import Settings
from reconciler.nixos.knownhosts import KnownHosts, known_hosts_from_state, known_hosts_text
from reconciler.nixos.machine import machine_name
from reconciler.nixos.provider import TYPES, NixosProvider
from reconciler.nixos.selection import machines_to_update


def create_provider(config: ProviderConfig) -> NixosProvider:
    """The provider factory the CLI registers under the name "nixos"."""
    return NixosProvider(config)


__all__ = ["TYPES", "KnownHosts", "NixosProvider", "Settings", "create_provider", "known_hosts_from_state",
           "known_hosts_text", "machine_name", "machines_to_update"]
