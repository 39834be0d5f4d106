"""A farm of test hosts: each one a network namespace with a veth link to the root namespace, its own sshd
and its own /nix, /run, /etc/ssh, /etc/nix, /root, /mnt and os-release through a private mount namespace,
so that what a command run over SSH sees is that host alone. Hosts start as "Ubuntu" with a random ed25519
host key and root login by the farm's client key; the stand-in nixos-anywhere (`bin/nixos-anywhere`) turns
them into "NixOS" over SSH. Addresses come from 10.213.0.0/16 (the project's own test range), one /30 per
host, allocated under a lock so that several farms can live side by side. Everything a farm made (processes,
namespaces, links, directories) is removed by `HostFarm.close()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

NETWORK = ipaddress.IPv4Network("10.213.0.0/16")
LOCK_FILE = Path("/run/lock/reconciler-testhosts.lock")
NS_PREFIX = "rct-"
STAND_IN = Path(__file__).resolve().parent / "bin" / "nixos-anywhere"
SYSTEMD_RUN = Path(__file__).resolve().parent / "bin" / "systemd-run"

UBUNTU_OS_RELEASE = (
    'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.1 LTS (Noble Numbat)"\n'
    "ID=ubuntu\nID_LIKE=debian\n"
)

# Offline nix: no binary caches, no global flake registry; the features the reconciler uses.
NIX_CONF = "experimental-features = nix-command flakes\nsubstituters =\nflake-registry = /dev/null\nsandbox = false\n"

SSHD_CONFIG = """\
Port 22
ListenAddress {address}
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile /root/.ssh/authorized_keys
StrictModes no
UsePAM no
UseDNS no
MaxStartups 200
MaxSessions 200
Subsystem sftp internal-sftp
"""

# Run inside `ip netns exec NS unshare --mount --propagation private`: give the host its own file tree,
# then become its sshd (-r: no re-exec per connection, which keeps 16 hosts on 2 cores fast). $1 is the
# host's directory.
MOUNT_AND_EXEC = """\
set -e
h="$1"
mount --bind "$h/nix" /nix
mount --bind "$h/run" /run
mount --bind "$h/etc-ssh" /etc/ssh
mount --bind "$h/etc-nix" /etc/nix
mount --bind "$h/root" /root
mount --bind "$h/mnt" /mnt
mount --bind "$h/os-release" "$(readlink -f /etc/os-release)"
if [ -d "$h/usr-local-bin" ]; then mount --bind "$h/usr-local-bin" /usr/local/bin; fi
exec /usr/sbin/sshd -D -e -r -f /etc/ssh/sshd_config
"""

REQUIRED_TOOLS = ("ip", "unshare", "mount", "nix", "nix-daemon", "nix-env", "ssh", "tar")


def missing_requirements() -> str | None:
    """Why test hosts cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "test hosts need root (network and mount namespaces)"
    if not Path("/usr/sbin/sshd").exists():
        return "test hosts need sshd (apt-get install openssh-server)"
    for tool in REQUIRED_TOOLS:
        if shutil.which(tool) is None:
            return f"test hosts need `{tool}` (apt-get install nix-bin openssh-server openssh-client iproute2)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"network namespaces are not available: {probe.stderr.strip()}"
    return None


def offline_nix_env() -> dict[str, str]:
    """Environment for local nix calls in tests: flakes on, and never a byte to a binary cache."""
    env = dict(os.environ)
    env["NIX_CONFIG"] = NIX_CONF
    return env


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv!r} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _ed25519_pair() -> tuple[bytes, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


@dataclass
class TestHost:
    """One test host; `host_key` is the public key its sshd presents now."""

    __test__ = False  # not a pytest test class

    slot: int
    namespace: str
    address: str
    root_address: str
    link: str
    directory: Path
    host_key: str = ""
    systemd: bool = False
    sshd: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def target(self) -> str:
        return f"root@{self.address}"

    def read(self, relpath: str) -> str:
        """A file of the host's own tree, e.g. "run/current-system" is not a file: use `current_system`."""
        return (self.directory / relpath).read_text()

    def os_release_id(self) -> str:
        fields = dict(line.split("=", 1) for line in self.read("os-release").splitlines() if "=" in line)
        variant = fields.get("VARIANT_ID", "").strip('"')
        ident = fields.get("ID", "").strip('"')
        return f"{ident}-{variant}" if variant else ident

    def current_system(self) -> str | None:
        """Where the host's /run/current-system points, or None."""
        link = self.directory / "run" / "current-system"
        return os.readlink(link) if link.is_symlink() else None

    def systemd_units(self) -> list[str]:
        """The units the stand-in systemd-run started, as "UNIT wait=0|1 COMMAND"."""
        log = self.directory / "run" / "reconciler-test" / "systemd-run.log"
        return log.read_text().splitlines() if log.exists() else []

    def activations(self) -> list[str]:
        log = self.directory / "run" / "reconciler-test" / "activations"
        return log.read_text().splitlines() if log.exists() else []

    def exec(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """Run a command in the host's network namespace (not its mount namespace)."""
        return _run(["ip", "netns", "exec", self.namespace, *argv], check=False)


class HostFarm:
    """Makes, recreates and removes test hosts. Use as a context manager or call `close()`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="reconciler-hosts-", dir=root))
        self.tag = secrets.token_hex(2)
        self.hosts: list[TestHost] = []
        self.client_key = self.root / "id_ed25519"
        private, public = _ed25519_pair()
        self.client_key.write_bytes(private)
        self.client_key.chmod(0o600)
        self.client_public_key = public
        self._closed = False

    def __enter__(self) -> HostFarm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- life cycle -------------------------------------------------------------------------------------------

    def create(self, count: int = 1, *, systemd: bool = False) -> list[TestHost]:
        """`systemd=True`: the host looks like it runs systemd (/run/systemd/system and a stand-in
        `systemd-run` on its PATH), so the code paths for real NixOS targets run."""
        made = [self._create_one(self._allocate_slot(), systemd) for _ in range(count)]
        for host in made:
            self._wait_listening(host)
        return made

    def recreate(self, host: TestHost) -> TestHost:
        """Tear a host down and make a fresh "Ubuntu" one at the same address (a VM toggled off and on).

        The namespace and link stay (so no other farm can take the address meanwhile); every process, the
        mount namespace and the host's whole file tree go."""
        self._kill_namespace_processes(host)
        shutil.rmtree(host.directory, ignore_errors=True)
        self.hosts.remove(host)
        fresh = self._create_one(host.slot, host.systemd)
        self._wait_listening(fresh)
        return fresh

    def destroy(self, host: TestHost) -> None:
        self._kill_namespace_processes(host)
        _run(["ip", "netns", "del", host.namespace], check=False)
        _run(["ip", "link", "del", host.link], check=False)
        shutil.rmtree(host.directory, ignore_errors=True)
        if host in self.hosts:
            self.hosts.remove(host)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for host in list(self.hosts):
            self.destroy(host)
        shutil.rmtree(self.root, ignore_errors=True)

    def stop_sshd(self, host: TestHost) -> None:
        """Cut a host off: its sshd and every process in its namespace die (a VM that went away)."""
        self._kill_namespace_processes(host)

    # -- internals --------------------------------------------------------------------------------------------

    def _allocate_slot(self) -> int:
        LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        with open(LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            used = self._used_slots()
            for slot in range(1, NETWORK.num_addresses // 4):
                if slot not in used:
                    # reserve it right away, under the lock, with the root-side link
                    self._make_link(slot)
                    return slot
        raise RuntimeError("no free test-host slot in 10.213.0.0/16")

    @staticmethod
    def _used_slots() -> set[int]:
        out = _run(["ip", "-o", "-4", "addr", "show"]).stdout
        used = set()
        for line in out.splitlines():
            parts = line.split()
            if "inet" in parts:
                addr = ipaddress.IPv4Interface(parts[parts.index("inet") + 1]).ip
                if addr in NETWORK:
                    used.add((int(addr) - int(NETWORK.network_address)) // 4)
        return used

    def _names(self, slot: int) -> tuple[str, str, str, str]:
        base = int(NETWORK.network_address) + 4 * slot
        root_addr = str(ipaddress.IPv4Address(base + 1))
        addr = str(ipaddress.IPv4Address(base + 2))
        namespace = f"{NS_PREFIX}{self.tag}-{slot}"
        link = f"rct{slot}"
        return namespace, link, root_addr, addr

    def _make_link(self, slot: int) -> None:
        namespace, link, root_addr, addr = self._names(slot)
        _run(["ip", "netns", "add", namespace])
        _run(["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        _run(["ip", "addr", "add", f"{root_addr}/30", "dev", link])
        _run(["ip", "link", "set", link, "up"])
        for argv in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{addr}/30", "dev", "eth0"],
                     ["ip", "link", "set", "eth0", "up"]):
            _run(["ip", "netns", "exec", namespace, *argv])

    def _create_one(self, slot: int, systemd: bool = False) -> TestHost:
        namespace, link, root_addr, addr = self._names(slot)
        if not Path(f"/run/netns/{namespace}").exists():
            self._make_link(slot)
        directory = self.root / f"host{slot}"
        host = TestHost(slot, namespace, addr, root_addr, link, directory, systemd=systemd)
        if systemd:
            (directory / "run" / "systemd" / "system").mkdir(parents=True)
            (directory / "usr-local-bin").mkdir(parents=True)
            shutil.copy(SYSTEMD_RUN, directory / "usr-local-bin" / "systemd-run")
        self.hosts.append(host)
        for sub in ("nix", "run/sshd", "etc-ssh", "etc-nix", "root/.ssh", "mnt"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        (directory / "run" / "sshd").chmod(0o755)
        private, public = _ed25519_pair()
        key = directory / "etc-ssh" / "ssh_host_ed25519_key"
        key.write_bytes(private)
        key.chmod(0o600)
        (directory / "etc-ssh" / "ssh_host_ed25519_key.pub").write_text(public + "\n")
        host.host_key = public
        (directory / "etc-ssh" / "sshd_config").write_text(SSHD_CONFIG.format(address=addr))
        (directory / "etc-nix" / "nix.conf").write_text(NIX_CONF)
        (directory / "root" / ".ssh" / "authorized_keys").write_text(self.client_public_key + "\n")
        (directory / "os-release").write_text(UBUNTU_OS_RELEASE)
        with open(directory / "sshd.log", "wb") as log:
            host.sshd = subprocess.Popen(
                ["ip", "netns", "exec", namespace, "unshare", "--mount", "--propagation", "private",
                 "sh", "-c", MOUNT_AND_EXEC, "sh", str(directory)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
            )
        return host

    @staticmethod
    def _wait_listening(host: TestHost, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection((host.address, 22), timeout=0.5):
                return
            if host.sshd is not None and host.sshd.poll() is not None:
                log = (host.directory / "sshd.log").read_text(errors="replace")
                raise RuntimeError(f"sshd of test host {host.address} exited: {log.strip()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd of test host {host.address} did not listen within {timeout}s")
            time.sleep(0.02)

    @staticmethod
    def _namespace_pids(host: TestHost) -> list[int]:
        out = _run(["ip", "netns", "pids", host.namespace], check=False).stdout
        return [int(p) for p in out.split()]

    def _kill_namespace_processes(self, host: TestHost) -> None:
        for _ in range(50):
            pids = self._namespace_pids(host)
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        if host.sshd is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                host.sshd.wait(timeout=5)


@contextlib.contextmanager
def host_farm(count: int = 0) -> Iterator[tuple[HostFarm, list[TestHost]]]:
    """A farm with `count` hosts made up front, closed on exit (the plain API for bench/ scripts)."""
    farm = HostFarm()
    try:
        yield farm, farm.create(count) if count else []
    finally:
        farm.close()
