from tests.hosts.fixtures import offline_nix

__all__ = ["offline_nix"]
