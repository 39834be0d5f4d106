"""Sandbox and test hosts: each one a network namespace (netns.py) with its own sshd and its own /nix, /run,
/etc/ssh, /etc/nix, /root, /mnt and os-release through a private mount namespace, so that what a command run
over SSH sees is that host alone. A new host looks like a fresh cloud VM: "Ubuntu", a new random ed25519 host
key, root login by the farm's client key. The sandbox installer (installer.py) turns it into "NixOS" over SSH.

A farm keeps each host's tree in a directory of its own (`root/host<slot>`, with `host.json`). `stop()` kills
a host's processes and removes its namespace and link but keeps its tree, and `restart()` brings it back at
the same address with the same tree and host key: that is how `sandbox down` and `up` keep the world.
`destroy()` removes the tree too (a deleted VM). Mounts live only in the host's mount namespace, so nothing is
left mounted once its processes are gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.sandbox import netns
from reconciler.sandbox.netns import DelayMode, HostError, Slot

UBUNTU_OS_RELEASE = (
    'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.1 LTS (Noble Numbat)"\n'
    "ID=ubuntu\nID_LIKE=debian\n"
)

# Offline nix, single-user on the host (no build users needed): no binary caches, no global flake registry.
NIX_CONF = ("experimental-features = nix-command flakes\nsubstituters =\nflake-registry = /dev/null\n"
            "sandbox = false\nbuild-users-group =\n")

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

# Run inside `ip netns exec NS unshare --mount --propagation private`: give the host its own file tree, then
# become its sshd (-r: no re-exec per connection, which keeps 16 hosts on 2 cores fast). $1 is the host's
# directory. Mount points missing on this machine (/etc/nix on a fresh Debian) are made first.
MOUNT_AND_EXEC = """\
set -e
h="$1"
mkdir -p /etc/nix /mnt
binds="nix:/nix run:/run etc-ssh:/etc/ssh etc-nix:/etc/nix root:/root mnt:/mnt"
binds="$binds os-release:$(readlink -f /etc/os-release)"
if [ -d "$h/usr-local-bin" ]; then binds="$binds usr-local-bin:/usr/local/bin"; fi
# the host's own directory may lie under a target (a clone in /root): that target is covered last
last=""
for b in $binds; do
  case "$h/" in "${b#*:}"/*) last="$b" ;; *) mount --bind "$h/${b%%:*}" "${b#*:}" ;; esac
done
if [ -n "$last" ]; then mount --bind "$h/${last%%:*}" "${last#*:}"; fi
exec /usr/sbin/sshd -D -e -r -f /etc/ssh/sshd_config
"""

# A stand-in for systemd-run on hosts made with systemd=True: only the options the reconciler uses (anything
# else fails, as a typo would against the real one); logs each call; runs the command outside the caller's
# session: detached without --wait, waited for (exit status passed on) with --wait.
SYSTEMD_RUN = """\
#!/bin/sh
wait=0; unit=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet|--collect|--pipe) ;;
    --wait) wait=1 ;;
    --service-type=exec) ;;
    --unit=*) unit="${1#--unit=}" ;;
    --setenv=*) kv="${1#--setenv=}"; export "${kv%%=*}=${kv#*=}" ;;
    --) shift; break ;;
    *) echo "systemd-run: unrecognized option '$1'" >&2; exit 1 ;;
  esac
  shift
done
[ -n "$unit" ] || { echo "systemd-run: the reconciler always names its units" >&2; exit 1; }
[ $# -gt 0 ] || { echo "systemd-run: no command" >&2; exit 1; }
mkdir -p /run/reconciler-test
echo "$unit wait=$wait $1" >> /run/reconciler-test/systemd-run.log
if [ "$wait" = 1 ]; then
  setsid "$@" &
  child=$!
  wait "$child"
  exit $?
fi
setsid "$@" </dev/null >/dev/null 2>&1 &
exit 0
"""


@dataclass
class Host:
    """One host; `host_key` is the public key its sshd presents now."""

    __test__ = False  # not a pytest test class

    slot: int
    namespace: str
    address: str
    root_address: str
    link: str
    directory: Path
    host_key: str = ""
    systemd: bool = False
    delay_ms: float = 0.0  # link delay each way
    delay: DelayMode = DelayMode.NONE  # how the delay is made
    sshd: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    relay: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def target(self) -> str:
        return f"root@{self.address}"

    def read(self, relpath: str) -> str:
        """A file of the host's own tree."""
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

    def present_host_key(self) -> str:
        return (self.directory / "etc-ssh" / "ssh_host_ed25519_key.pub").read_text().strip()

    def round_trips(self) -> int | None:
        """SSH round trips to this host so far, when a relay delays its link (netem counts none)."""
        path = self.directory / "round-trips"
        if self.delay is not DelayMode.RELAY:
            return None
        return int(path.read_text() or 0) if path.exists() else 0

    def systemd_units(self) -> list[str]:
        """The units the stand-in systemd-run started, as "UNIT wait=0|1 COMMAND"."""
        log = self.directory / "run" / "reconciler-test" / "systemd-run.log"
        return log.read_text().splitlines() if log.exists() else []

    def activations(self) -> list[str]:
        log = self.directory / "run" / "reconciler-test" / "activations"
        return log.read_text().splitlines() if log.exists() else []

    def exec(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """Run a command in the host's network namespace (not its mount namespace)."""
        return netns.run(["ip", "netns", "exec", self.namespace, *argv], check=False)


class HostFarm:
    """Makes, recreates, stops, restarts and removes hosts. Use as a context manager or call `close()`.

    `root`: the directory that holds the hosts' trees and the client key (a new temporary one by default;
    the sandbox passes its own, kept across runs). `delay_ms`: link delay each way for every host made.
    `from_top`: take addresses from the top of the range (the sandbox), away from test farms."""

    def __init__(self, root: Path | None = None, *, delay_ms: float = 0.0, tag: str | None = None,
                 from_top: bool = False) -> None:
        self.from_top = from_top
        self.temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="reconciler-hosts-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.tag = tag or secrets.token_hex(2)
        self.delay_ms = delay_ms
        self.hosts: list[Host] = []
        self.client_key = self.root / "id_ed25519"
        if not self.client_key.exists():
            private, public = netns.ed25519_pair()
            self.client_key.touch(mode=0o600)
            self.client_key.write_bytes(private)
            (self.root / "id_ed25519.pub").write_text(public + "\n")
        self.client_public_key = (self.root / "id_ed25519.pub").read_text().strip()
        self._closed = False

    def __enter__(self) -> HostFarm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- life cycle -------------------------------------------------------------------------------------------

    def create(self, count: int = 1, *, systemd: bool = False, delay_ms: float | None = None) -> list[Host]:
        """`systemd=True`: the host looks like it runs systemd (/run/systemd/system and a stand-in
        `systemd-run` on its PATH), so the code paths for real NixOS targets run. `delay_ms`: this host's link
        delay each way (default: the farm's)."""
        made = []
        for _ in range(count):
            slot = netns.claim_slot(self.tag, from_top=self.from_top)
            delay = self.delay_ms if delay_ms is None else delay_ms
            made.append(self._start(self._fresh_tree(slot, systemd, delay)))
        for host in made:
            self._wait_listening(host)
        return made

    def recreate(self, host: Host) -> Host:
        """Tear a host down and make a fresh "Ubuntu" one at the same address (a VM toggled off and on): the
        namespace and link stay (so no other farm can take the address meanwhile); every process, the mount
        namespace and the host's whole file tree go, and it gets a new host key."""
        netns.kill_namespace(host.namespace)
        self._wait_sshd(host)
        shutil.rmtree(host.directory, ignore_errors=True)
        self.hosts.remove(host)
        fresh = self._start(self._fresh_tree(Slot(host.slot, self.tag), host.systemd, host.delay_ms))
        self._wait_listening(fresh)
        return fresh

    def stop(self, host: Host) -> None:
        """Kill the host's processes and remove its namespace and link; its tree stays for `restart`."""
        netns.kill_namespace(host.namespace)
        self._wait_sshd(host)
        netns.remove_link(Slot(host.slot, self.tag))
        if host in self.hosts:
            self.hosts.remove(host)

    def restart(self, directory: Path) -> Host:
        """Bring a stopped host back from its tree: same address (slot), same host key, same system."""
        meta = json.loads((directory / "host.json").read_text())
        stale = Slot(int(meta["slot"]), self.tag)
        if Path(f"/run/netns/{stale.namespace}").exists():  # left by a sandbox that was killed, not stopped
            netns.kill_namespace(stale.namespace)
            netns.remove_link(stale)
        slot = netns.claim_slot(self.tag, stale.number)
        host = self._host(slot, directory, bool(meta.get("systemd", False)), float(meta.get("delay_ms", 0.0)))
        (directory / "run" / "sshd.pid").unlink(missing_ok=True)
        started = self._start(host)
        self._wait_listening(started)
        return started

    def destroy(self, host: Host) -> None:
        """A deleted VM: processes, namespace, link and tree all go."""
        self.stop(host)
        shutil.rmtree(host.directory, ignore_errors=True)

    def close(self) -> None:
        """Destroy every host (a temporary farm also loses its directory)."""
        if self._closed:
            return
        self._closed = True
        for host in list(self.hosts):
            self.destroy(host)
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def stop_all(self) -> None:
        for host in list(self.hosts):
            self.stop(host)

    def find(self, address: str) -> Host | None:
        return next((h for h in self.hosts if h.address == address), None)

    def stored(self) -> list[Path]:
        """Trees of hosts kept under the root (running or stopped)."""
        return sorted(p.parent for p in self.root.glob("host*/host.json"))

    # -- internals --------------------------------------------------------------------------------------------

    def _host(self, slot: Slot, directory: Path, systemd: bool, delay_ms: float) -> Host:
        return Host(slot.number, slot.namespace, slot.address, slot.root_address, slot.link, directory,
                    systemd=systemd, delay_ms=delay_ms)

    def _fresh_tree(self, slot: Slot, systemd: bool, delay_ms: float) -> Host:
        directory = self.root / f"host{slot.number}"
        shutil.rmtree(directory, ignore_errors=True)
        host = self._host(slot, directory, systemd, delay_ms)
        for sub in ("nix", "run/sshd", "etc-ssh", "etc-nix", "root/.ssh", "mnt"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        (directory / "run" / "sshd").chmod(0o755)
        if systemd:
            (directory / "run" / "systemd" / "system").mkdir(parents=True)
            (directory / "usr-local-bin").mkdir(parents=True)
            script = directory / "usr-local-bin" / "systemd-run"
            script.write_text(SYSTEMD_RUN)
            script.chmod(0o755)
        private, public = netns.ed25519_pair()
        key = directory / "etc-ssh" / "ssh_host_ed25519_key"
        key.touch(mode=0o600)
        key.write_bytes(private)
        (directory / "etc-ssh" / "ssh_host_ed25519_key.pub").write_text(public + "\n")
        (directory / "etc-nix" / "nix.conf").write_text(NIX_CONF)
        (directory / "root" / ".ssh" / "authorized_keys").write_text(self.client_public_key + "\n")
        (directory / "os-release").write_text(UBUNTU_OS_RELEASE)
        (directory / "host.json").write_text(json.dumps({"slot": slot.number, "address": slot.address,
                                                         "systemd": systemd, "delay_ms": delay_ms}))
        return host

    def _start(self, host: Host) -> Host:
        host.delay = netns.set_delay(Slot(host.slot, self.tag), host.delay_ms)
        # behind a relay, sshd listens on the namespace's loopback and the relay on the host's address
        listen = "127.0.0.1" if host.delay is DelayMode.RELAY else host.address
        (host.directory / "etc-ssh" / "sshd_config").write_text(SSHD_CONFIG.format(address=listen))
        host.host_key = host.present_host_key()
        with open(host.directory / "sshd.log", "wb") as log:
            host.sshd = subprocess.Popen(
                ["ip", "netns", "exec", host.namespace, "unshare", "--mount", "--propagation", "private",
                 "sh", "-c", MOUNT_AND_EXEC, "sh", str(host.directory)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
            )
            if host.delay is DelayMode.RELAY:
                host.relay = subprocess.Popen(
                    ["ip", "netns", "exec", host.namespace, sys.executable, "-m", "reconciler.sandbox.relay",
                     host.address, "127.0.0.1", str(host.delay_ms), str(host.directory / "round-trips")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
                    env=_python_env())
        self.hosts.append(host)
        return host

    @staticmethod
    def _wait_sshd(host: Host) -> None:
        for proc in (host.sshd, host.relay):
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)

    @staticmethod
    def _wait_listening(host: Host, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if _listening(host.address) and (host.delay is not DelayMode.RELAY or _ssh_banner(host.address)):
                return
            for proc in (host.sshd, host.relay):
                if proc is not None and proc.poll() is not None:
                    log = (host.directory / "sshd.log").read_text(errors="replace")
                    raise HostError(f"sshd of host {host.address} exited: {log.strip()}", stderr=log)
            if time.monotonic() > deadline:
                raise HostError(f"sshd of host {host.address} did not listen within {timeout:g}s")
            time.sleep(0.02)


def _listening(address: str) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, 22), timeout=0.5):
        return True
    return False


def _ssh_banner(address: str) -> bool:
    """Behind a relay the port accepts before sshd runs: wait for sshd's banner."""
    with contextlib.suppress(OSError), socket.create_connection((address, 22), timeout=2) as conn:
        conn.settimeout(2)
        return conn.recv(4).startswith(b"SSH-")
    return False


def _python_env() -> dict[str, str]:
    """This process's environment, with the directory holding `reconciler` first on PYTHONPATH."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


@contextlib.contextmanager
def host_farm(count: int = 0, *, delay_ms: float = 0.0, systemd: bool = False) -> Iterator[tuple[HostFarm, list[Host]]]:
    """A temporary farm with `count` hosts made up front, closed on exit (the plain API for bench scripts)."""
    farm = HostFarm(delay_ms=delay_ms)
    try:
        yield farm, farm.create(count, systemd=systemd) if count else []
    finally:
        farm.close()
