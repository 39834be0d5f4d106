"""Address helpers shared by the provider and the emulator."""

from __future__ import annotations

import ipaddress


def ipv6_first(net: str | None) -> str:
    """The first address of a server's IPv6 /64, as Terraform's `ipv6_address` reports it ("" without one)."""
    if not net:
        return ""
    return str(ipaddress.ip_network(net, strict=False).network_address + 1)
