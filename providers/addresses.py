"""The address hook of the API emulators: who hands out the IPv4 address of a new server or instance.

An emulator asks its `AddressAllocator` for one address when it creates a server and gives it back when the
server is gone. By default (`LoopbackAddresses`) the addresses are loopback ones, distinct per server, so a
client that tries to reach one reaches this machine and nobody else (never a documentation or public
address). `reconciler sandbox` passes an allocator that brings up a local host (a network namespace with its
own sshd) per address and tears it down on release; the emulators know nothing about hosts.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Protocol


class AddressAllocator(Protocol):
    def allocate(self, name: str) -> str:
        """A new address for the server called `name`; raises when none can be had."""
        ...

    def release(self, address: str) -> None:
        """The server that had `address` is gone."""
        ...


class LoopbackAddresses:
    """Distinct loopback addresses from `network` (a part of 127.0.0.0/8), reusing released ones first."""

    def __init__(self, network: str) -> None:
        net = ipaddress.IPv4Network(network)
        if not net.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")):
            raise ValueError(f"{network} is not a loopback network")
        self._hosts = net.hosts()
        self._released: list[str] = []
        self._lock = threading.Lock()

    def allocate(self, name: str) -> str:
        with self._lock:
            if self._released:
                return self._released.pop(0)
            for host in self._hosts:
                return str(host)
        raise LookupError("no loopback address left")

    def release(self, address: str) -> None:
        with self._lock:
            self._released.append(address)
