"""The sandbox installer: a stand-in for nixos-anywhere that does to a sandbox host, over SSH and with real
nix, what each phase does to a VM. It takes nixos-anywhere's own options (installer_args.py). Phases:

  kexec    the host "reboots into the installer": a new random host key, NixOS installer os-release, no
           current system; every SSH session drops and sshd comes back (skipped when it already runs it);
  disko    the disk is formatted: the host's /nix and /mnt are wiped (`--disko-mode mount` only checks that a
           formatted disk is there); `--disk-encryption-keys` are copied first, as nixos-anywhere does;
  install  the system is built (here, or on the target with `--build-on remote`), its closure copied into the
           host's store, the system profile set, `--extra-files` (and `--copy-host-keys`) laid down under /mnt;
  reboot   the installed system boots: host key from /mnt/etc/ssh (a new one when none was installed), NixOS
           os-release, /run/current-system; every SSH session drops and sshd comes back.

Set NIXOS_ANYWHERE_FAIL_PHASE=PHASE to make that phase fail as an interrupted run would. Standard library
only. Run as `python -m reconciler.sandbox.installer` (the sandbox writes a `nixos-anywhere` script that does).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time

from reconciler.sandbox.installer_args import PHASES, Abort, Options, parse

INSTALLER_OS_RELEASE = (
    'NAME=NixOS\nID=nixos\nVERSION_ID="25.05"\nPRETTY_NAME="NixOS 25.05 (Warbler) installer"\n'
    "VARIANT_ID=installer\n"
)
NIXOS_OS_RELEASE = 'NAME=NixOS\nID=nixos\nVERSION_ID="25.05"\nPRETTY_NAME="NixOS 25.05 (Warbler)"\n'
PROFILE = "/nix/var/nix/profiles/system"
NIX = ["nix", "--extra-experimental-features", "nix-command flakes"]

# drop every session and let sshd come back (it re-reads its host key on SIGHUP): a reboot, as SSH sees it
RESTART_SSHD = """
pid=$(cat /run/sshd.pid)
setsid sh -c 'sleep 0.2; pkill -KILL -P "$1"; kill -HUP "$1"' sh "$pid" </dev/null >/dev/null 2>&1 &
"""

KEXEC = """
set -e
cat > /etc/os-release
rm -f /run/current-system /run/booted-system
rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub
ssh-keygen -q -t ed25519 -N "" -C root@nixos-installer -f /etc/ssh/ssh_host_ed25519_key
""" + RESTART_SSHD

REBOOT = """
set -e
if [ -e /mnt/etc/ssh/ssh_host_ed25519_key ]; then
  cat /mnt/etc/ssh/ssh_host_ed25519_key > /etc/ssh/ssh_host_ed25519_key
  chmod 600 /etc/ssh/ssh_host_ed25519_key
  ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key > /etc/ssh/ssh_host_ed25519_key.pub
else
  rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub
  ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
fi
printf '%s' "$1" > /etc/os-release
system=$(readlink -f "$2")
ln -sfn "$system" /run/current-system
ln -sfn "$system" /run/booted-system
mkdir -p /run/reconciler-test
echo "boot $system" >> /run/reconciler-test/activations
""" + RESTART_SSHD


def step(message: str) -> None:
    print(f"### {message} ###", flush=True)


class Target:
    """The host over SSH: one multiplexed connection per run, reopened after the host restarts sshd."""

    def __init__(self, opts: Options, control_dir: str) -> None:
        self.host = opts.target
        self.control = os.path.join(control_dir, "cm")
        self.opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                     "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-p", str(opts.port),
                     "-o", "ControlMaster=auto", "-o", f"ControlPath={self.control}", "-o", "ControlPersist=2"]
        for option in opts.ssh_options:
            self.opts += ["-o", option]
        if opts.identity:
            self.opts += ["-o", "IdentitiesOnly=yes", "-i", opts.identity]

    def close(self) -> None:
        subprocess.run(["ssh", *self.opts, "-O", "exit", self.host], capture_output=True)

    def ssh(self, script: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        argv = ["ssh", *self.opts, self.host, shlex.join(["sh", "-c", script, "sh", *args])]
        proc = subprocess.run(argv, input=stdin, capture_output=True)
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        if proc.returncode == 255:
            raise Abort(f"ssh: connect to host {self.host} port 22: Connection refused or lost")
        return proc

    def check(self, script: str, *args: str, stdin: bytes | None = None) -> str:
        proc = self.ssh(script, *args, stdin=stdin)
        if proc.returncode != 0:
            raise Abort(f"command on {self.host} failed with exit code {proc.returncode}")
        return proc.stdout.decode()

    def wait_back(self, timeout: float = 60.0) -> None:
        """After a restart of its sshd: wait until the host answers again (with whatever key it has now)."""
        time.sleep(0.4)
        self.close()
        deadline = time.monotonic() + timeout
        while True:
            argv = ["ssh", *self.opts, self.host, "true"]
            if subprocess.run(argv, capture_output=True).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise Abort(f"{self.host} did not come back within {timeout:g}s")
            time.sleep(0.2)


def nix(*args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([*NIX, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise Abort(f"nix {args[0]} failed")
    return proc.stdout


def toplevel_installable(flake: str) -> str:
    ref, name = flake.rsplit("#", 1)
    attr = name if name.startswith("nixosConfigurations.") else f'nixosConfigurations."{name}".config'
    return f"{ref}#{attr}.system.build.toplevel"


def phase_kexec(t: Target, o: Options) -> None:
    step("Gathering machine facts")
    if "VARIANT_ID=installer" in t.check("cat /etc/os-release"):
        step("Target is already running the NixOS installer, skipping kexec")
        return
    step("Switching system into kexec")
    t.check(KEXEC, stdin=INSTALLER_OS_RELEASE.encode())
    t.wait_back()
    step("Waiting for the machine to become unreachable due to kexec")


def phase_disko(t: Target, o: Options) -> None:
    if "VARIANT_ID=installer" not in t.check("cat /etc/os-release"):
        raise Abort("disko must run in the NixOS installer (run the kexec phase first)")
    for remote, local in o.disk_encryption_keys.items():
        with open(local, "rb") as fh:
            t.check('umask 077; mkdir -p "$(dirname "$1")"; cat > "$1"', remote, stdin=fh.read())
    if o.disko_mode == "mount":
        step("Mounting disks with disko")
        t.check('test -e /mnt/.disko-formatted || { echo "no formatted disk to mount" >&2; exit 1; }')
        return
    step("Formatting hard drive with disko")
    t.check("find /mnt /nix -mindepth 1 -delete && touch /mnt/.disko-formatted")


def _build(t: Target, o: Options) -> str:
    installable = toplevel_installable(o.flake)
    if o.build_on != "remote":
        step("Building the system closure")
        return str(json.loads(nix("build", "--no-link", "--json", installable))[0]["outputs"]["out"])
    step("Building the system closure on the target")
    drv = nix("eval", "--raw", f"{installable}.drvPath")
    _copy(t, "--derivation", drv)
    out = t.check('nix-store --realise "$1" 2>/dev/null | tail -n 1', drv).strip()
    if not out.startswith("/nix/store/"):
        raise Abort(f"building {drv} on the target failed")
    return out


def _copy(t: Target, *args: str) -> None:
    env = dict(os.environ, NIX_SSHOPTS=shlex.join(t.opts))
    proc = subprocess.run([*NIX, "copy", "--no-check-sigs", "--substitute-on-destination", "--to",
                           f"ssh-ng://{t.host}", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise Abort("nix copy of the system closure failed")


def phase_install(t: Target, o: Options) -> None:
    t.check('test -e /mnt/.disko-formatted || { echo "/mnt is not mounted: run disko first" >&2; exit 1; }')
    toplevel = _build(t, o)
    step("Uploading the system closure")
    if o.build_on != "remote":
        _copy(t, toplevel)
    if o.copy_host_keys:
        step("Copying the existing host keys")
        t.check("mkdir -p /mnt/etc/ssh && cp -p /etc/ssh/ssh_host_* /mnt/etc/ssh/")
    if o.extra_files:
        step("Copying extra files")
        with tempfile.TemporaryFile() as buf:
            with tarfile.open(fileobj=buf, mode="w") as tar:
                tar.add(o.extra_files, arcname=".")
            buf.seek(0)
            t.check("tar -x -p -C /mnt -f -", stdin=buf.read())
        for path, owner in o.chown.items():
            t.check('chown -R "$2" "/mnt/$1"', path.lstrip("/"), owner)
    step("Installing NixOS")
    t.check('mkdir -p "$(dirname "$1")" && nix-env -p "$1" --set "$2" && touch /mnt/.installed-system',
            PROFILE, toplevel)


def phase_reboot(t: Target, o: Options) -> None:
    t.check('test -e /mnt/.installed-system || { echo "nothing installed to boot" >&2; exit 1; }')
    step("Rebooting")
    t.check(REBOOT, NIXOS_OS_RELEASE, PROFILE)


STEPS = {"kexec": phase_kexec, "disko": phase_disko, "install": phase_install, "reboot": phase_reboot}


def run(argv: list[str]) -> int:
    try:
        opts = parse(argv)
        with tempfile.TemporaryDirectory(prefix="nixos-anywhere-") as control_dir:
            target = Target(opts, control_dir)
            try:
                fail = os.environ.get("NIXOS_ANYWHERE_FAIL_PHASE")
                for phase in PHASES:
                    if phase in opts.phases:
                        if phase == fail:
                            raise Abort(f"phase {phase} interrupted (NIXOS_ANYWHERE_FAIL_PHASE)")
                        STEPS[phase](target, opts)
            finally:
                target.close()
    except Abort as e:
        print(f"aborted: {e}", file=sys.stderr, flush=True)
        return 1
    step("Done!")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
