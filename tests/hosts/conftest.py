from tests.hosts.fixtures import farm, offline_nix

__all__ = ["farm", "offline_nix"]
