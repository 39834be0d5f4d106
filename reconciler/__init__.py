"""reconciler: a Terraform-style declarative reconciler for NixOS fleets."""

__version__ = "0.1.0"
