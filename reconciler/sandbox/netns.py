"""The network half of a sandbox host: what this machine must have (root, iproute2, sshd, nix), the
10.213.0.0/16 address plan (one /30 per host, a slot number), the veth link from the root namespace into the
host's network namespace, an optional link delay, and killing every process of a namespace.

Slots are claimed under a lock file, by creating the root-side link at once, so several farms (test sessions,
sandboxes of different configurations) live side by side. A link delay uses `tc netem` on both ends of the
veth pair when the kernel has it; without it (a kernel built without sch_netem) the host's sshd sits behind a
small relay in its namespace that holds every chunk for the delay (see relay.py): the same round trips, as
seen by SSH, without the kernel module.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from reconciler.errors import ReconcilerError

NETWORK = ipaddress.IPv4Network("10.213.0.0/16")
LOCK_FILE = Path("/run/lock/reconciler-testhosts.lock")
REQUIRED_TOOLS = ("ip", "unshare", "mount", "nix", "nix-daemon", "nix-env", "ssh", "ssh-keygen", "tar")
HOSTS_FLAG = "RECONCILER_REQUIRE_HOSTS"  # set (=1) in CI: tests needing hosts fail instead of skipping


class HostError(ReconcilerError):
    """A sandbox/test host could not be made, started or removed; carries the command's stderr."""

    def __init__(self, message: str, *, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class DelayMode(Enum):
    NONE = "none"
    NETEM = "netem"  # tc netem on both veth ends
    RELAY = "relay"  # a delaying TCP relay in front of sshd


def hosts_required() -> bool:
    """True when the environment says that hosts must be available (CI): a missing one is a failure."""
    return os.environ.get(HOSTS_FLAG, "") not in ("", "0")


def missing_requirements() -> str | None:
    """Why hosts cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "hosts need root (network and mount namespaces)"
    if not Path("/usr/sbin/sshd").exists():
        return "hosts need sshd (apt-get install openssh-server)"
    for tool in REQUIRED_TOOLS:
        if shutil.which(tool) is None:
            return f"hosts need `{tool}` (apt-get install nix-bin openssh-server openssh-client iproute2)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"network namespaces are not available: {probe.stderr.strip()}"
    return None


def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise HostError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}",
                        stderr=proc.stderr)
    return proc


def ed25519_pair() -> tuple[bytes, str]:
    """A new (OpenSSH private key PEM, public key line) pair."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


@dataclass(frozen=True)
class Slot:
    """One /30 of 10.213.0.0/16: the root side's address, the host's address, and the names used."""

    number: int
    tag: str

    @property
    def root_address(self) -> str:
        return str(NETWORK.network_address + 4 * self.number + 1)

    @property
    def address(self) -> str:
        return str(NETWORK.network_address + 4 * self.number + 2)

    @property
    def namespace(self) -> str:
        return f"rct-{self.tag}-{self.number}"

    @property
    def link(self) -> str:
        return f"rct{self.number}"

    @staticmethod
    def of_address(address: str) -> int:
        return (int(ipaddress.IPv4Address(address)) - int(NETWORK.network_address)) // 4


def used_slots() -> set[int]:
    out = run(["ip", "-o", "-4", "addr", "show"]).stdout
    used = set()
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            addr = ipaddress.IPv4Interface(parts[parts.index("inet") + 1]).ip
            if addr in NETWORK:
                used.add(Slot.of_address(str(addr)))
    return used


def claim_slot(tag: str, wanted: int | None = None, *, from_top: bool = False) -> Slot:
    """Claim a free slot (or exactly `wanted`, e.g. a sandbox host coming back at its address) and make its
    link at once, under the lock. Test farms take the lowest free slot, sandboxes (`from_top`) the highest, so
    that a test run does not take the address of a sandbox host that is down for a while."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        used = used_slots()
        if wanted is not None:
            if wanted in used:
                raise HostError(f"address {Slot(wanted, tag).address} is taken by another host on this machine")
            make_link(Slot(wanted, tag))
            return Slot(wanted, tag)
        numbers = range(1, NETWORK.num_addresses // 4)
        for number in reversed(numbers) if from_top else numbers:
            if number not in used:
                make_link(Slot(number, tag))
                return Slot(number, tag)
    raise HostError("no free host slot in 10.213.0.0/16")


def make_link(slot: Slot) -> None:
    ns, link = slot.namespace, slot.link
    if not Path(f"/run/netns/{ns}").exists():
        run(["ip", "netns", "add", ns])
    run(["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns])
    run(["ip", "addr", "add", f"{slot.root_address}/30", "dev", link])
    run(["ip", "link", "set", link, "up"])
    for argv in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{slot.address}/30", "dev", "eth0"],
                 ["ip", "link", "set", "eth0", "up"]):
        run(["ip", "netns", "exec", ns, *argv])


def remove_link(slot: Slot) -> None:
    run(["ip", "netns", "del", slot.namespace], check=False)
    run(["ip", "link", "del", slot.link], check=False)


def set_delay(slot: Slot, delay_ms: float) -> DelayMode:
    """Delay every packet `delay_ms` each way with netem; RELAY when this kernel has no netem."""
    if delay_ms <= 0:
        return DelayMode.NONE
    root = run(["tc", "qdisc", "replace", "dev", slot.link, "root", "netem", "delay", f"{delay_ms}ms"], check=False)
    if root.returncode != 0:
        if "unknown" in root.stderr.lower() or "no such file" in root.stderr.lower():
            return DelayMode.RELAY
        raise HostError(f"tc netem on {slot.link} failed: {root.stderr.strip()}", stderr=root.stderr)
    run(["ip", "netns", "exec", slot.namespace, "tc", "qdisc", "replace", "dev", "eth0", "root", "netem",
         "delay", f"{delay_ms}ms"])
    return DelayMode.NETEM


def namespace_pids(namespace: str) -> list[int]:
    out = run(["ip", "netns", "pids", namespace], check=False).stdout
    return [int(p) for p in out.split()]


def kill_namespace(namespace: str) -> None:
    """SIGKILL every process of the namespace until none is left (sshd, sessions, nix, relay)."""
    for _ in range(100):
        pids = namespace_pids(namespace)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    raise HostError(f"processes of {namespace} would not die")
