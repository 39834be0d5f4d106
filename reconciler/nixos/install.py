"""An install (`>`): nixos-anywhere run once per phase (kexec, disko, install, reboot), with the machine's
`ssh_host_key` var handed over through `--extra-files` as etc/ssh/ssh_host_ed25519_key. After each phase the
phase reached is recorded through the journal, so a rerun resumes after it and never runs disko again on a disk
that was already formatted by this install; a machine that already answers as installed NixOS with its pinned
key is not installed again. Known nixos-anywhere failures become one clear line; after the reboot we wait until
the host answers with the pinned key."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.base import Journal
from reconciler.errors import HostKeyError
from reconciler.nixos import activate
from reconciler.nixos.context import Context
from reconciler.nixos.deploy import endpoint_of, wait_for_host
from reconciler.nixos.errors import InstallError, UnreachableError
from reconciler.nixos.machine import PHASES, MachineSpec
from reconciler.nixos.nixcmd import run_process, stderr_tail
from reconciler.nixos.ssh import ANY_KEY, Endpoint
from reconciler.vars import ensure_host_key, private_host_key
from reconciler.vars.private_tmp import scratch
from reconciler.vars.ssh_host_key import PRIVATE_FILE, PUBLIC_FILE

# (pattern in nixos-anywhere's output, what it means, what to do)
KNOWN_ERRORS: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(p, re.IGNORECASE), msg, hint) for p, msg, hint in (
        (r"Permission denied \(publickey", "the target refused the SSH login",
         "check ssh_private_key_file and that its public key is authorized for target_user"),
        (r"Connection refused|Connection timed out|No route to host|Connection refused or lost",
         "cannot reach the target over SSH", "is the machine up and target_host/target_port right?"),
        (r"Could not resolve hostname", "target_host does not resolve", None),
        (r"refusing to format|holds an installed", "the target's disk holds an installed system; refusing to "
         "reformat it", "an install resumes after disko; to really wipe it, do so by hand first"),
        (r"does not provide attribute|flake .* does not provide", "the flake has no such nixosConfiguration",
         "check the machine's flake attribute"),
        (r"No space left on device", "the target ran out of space (the kexec installer needs about 1 GB of RAM)",
         None),
        (r"kexec.*(not permitted|Operation not permitted|failed to load)", "the target does not allow kexec",
         "boot the NixOS installer by other means and leave kexec out of install.phases"),
        (r"is not a block device|No such file or directory.*/dev/|Failed to find device",
         "disko did not find the disk named in the configuration", "check the disko device for this VM type"),
        (r"nix copy of the system closure failed|error: cannot add path", "copying the system to the target failed",
         None),
        (r"run disko first|is not mounted", "the disk is not formatted/mounted (disko did not run)",
         "rerun the install from the disko phase"),
        (r"run the kexec phase first|must run in the NixOS installer", "the target is not running the installer",
         "rerun the install from the kexec phase"),
    ))


@dataclass(frozen=True)
class Installed:
    toplevel: str | None
    host_key: str
    phase: str | None  # the last phase reached


def explain(phase: str, output: str) -> tuple[str, str | None]:
    for pattern, message, hint in KNOWN_ERRORS:
        if pattern.search(output):
            return message, hint
    return stderr_tail(output, 1) or "failed", None


def start_phase(phases: tuple[str, ...], reached: str | None) -> int:
    """Index into `phases` of the first phase to run, given the last phase a previous run recorded."""
    if reached is None or reached not in phases or reached == phases[-1]:
        return 0  # nothing yet, or a complete earlier install: this is a new install (a recreated VM)
    return phases.index(reached) + 1


def _extra_files(ctx: Context, spec: MachineSpec) -> Path:
    root = scratch(ctx.workdir, "extra-files-")  # the decrypted host key: only in the config's private tmp
    ssh_dir = root / "etc" / "ssh"
    ssh_dir.mkdir(parents=True, mode=0o755)
    private = ssh_dir / PRIVATE_FILE
    private.touch(mode=0o600)
    private.write_bytes(private_host_key(ctx.vars, spec.name))
    (ssh_dir / PUBLIC_FILE).write_text(ensure_host_key(ctx.vars, spec.name) + "\n")
    return root


def _argv(ctx: Context, spec: MachineSpec, host: str, phase: str, extra: Path) -> list[str]:
    argv = [ctx.settings.nixos_anywhere, "--flake", str(spec.flake), "--target-host", f"{spec.target_user}@{host}",
            "--phases", phase, "--extra-files", str(extra), "--ssh-port", str(spec.target_port)]
    if spec.ssh_private_key_file:
        argv += ["-i", spec.ssh_private_key_file]
    if spec.install.build_on_remote:
        argv += ["--build-on", "remote"]  # current nixos-anywhere; --build-on-remote is deprecated
    if spec.install.kexec:
        argv += ["--kexec", spec.install.kexec]
    for remote, local in spec.install.disk_encryption_keys:
        argv += ["--disk-encryption-keys", remote, local]
    return argv


async def _installed_already(ctx: Context, endpoint: Endpoint, pinned: str) -> str | None:
    """The current system of a host that already answers as installed NixOS with the pinned key, else None."""
    try:
        session = await ctx.pool.get(endpoint, pinned)
        release = await session.run(["cat", "/etc/os-release"])
        if "ID=nixos" not in release.stdout or "VARIANT_ID=installer" in release.stdout:
            return None
        return (await activate.probe(session)).current
    except (UnreachableError, HostKeyError):
        return None
    finally:
        ctx.pool.drop(endpoint)


async def _runs_installer(ctx: Context, endpoint: Endpoint) -> bool:
    try:
        session = await ctx.pool.get(endpoint, ANY_KEY)
        out = await session.run(["cat", "/etc/os-release"])
        return "VARIANT_ID=installer" in out.stdout
    except UnreachableError:
        return False
    finally:
        ctx.pool.drop(endpoint)


async def install(ctx: Context, spec: MachineSpec, planned: Mapping[str, Any], reached: str | None,
                  journal: Journal) -> Installed:
    """Install NixOS on the machine at spec.target_host, resuming after the phase `reached`."""
    host = spec.target_host
    endpoint = endpoint_of(spec)
    pinned = ensure_host_key(ctx.vars, spec.name)
    phases = spec.install.phases or PHASES
    first = start_phase(phases, reached)
    if first == 0:
        current = await _installed_already(ctx, endpoint, pinned)
        if current is not None:
            journal.phase("already installed")
            ctx.known_hosts.pin(spec.name, spec.target_host, spec.target_port, pinned)
            return Installed(current, pinned, phases[-1])
    elif phases[first] != "kexec" and "kexec" in phases and not await _runs_installer(ctx, endpoint):
        journal.phase("installer gone; starting over")  # e.g. the VM was recreated mid-install
        first = 0
    extra = _extra_files(ctx, spec)
    attributes = dict(planned)
    attributes["host_key"] = pinned
    attributes["toplevel"] = None
    try:
        for phase in phases[first:]:
            journal.phase(f"install: {phase}")
            argv = _argv(ctx, spec, host, phase, extra)
            result = await run_process(argv, cwd=str(ctx.workdir), env=ctx.tool.environ(),
                                       timeout=ctx.settings.reboot_timeout + ctx.settings.activation_timeout)
            if not result.ok:
                output = result.stderr + result.stdout
                message, hint = explain(phase, output)
                raise InstallError(f"install of {spec.name} failed in phase {phase}: {message}", phase=phase,
                                   argv=argv, exit_code=result.exit_code, stderr=stderr_tail(output, 12),
                                   hint=hint)
            journal.record(spec.name, attributes, private={"install_phase": phase})
    finally:
        shutil.rmtree(extra, ignore_errors=True)
    ctx.known_hosts.pin(spec.name, spec.target_host, spec.target_port, pinned)
    if "reboot" not in phases:
        return Installed(None, pinned, phases[-1])
    journal.phase("waiting for the installed system")
    current = await _wait_installed(ctx, spec, endpoint, pinned)
    return Installed(current, pinned, phases[-1])


async def _wait_installed(ctx: Context, spec: MachineSpec, endpoint: Endpoint, pinned: str) -> str | None:
    """Wait until the rebooted host answers with the pinned key and stays up for a command; its system."""
    deadline = time.monotonic() + ctx.settings.reboot_timeout
    while True:
        ctx.pool.drop(endpoint)
        remaining = max(0.0, deadline - time.monotonic())
        session = await wait_for_host(ctx, endpoint, pinned, remaining, tolerate_other_key=True)
        if session is None:
            raise UnreachableError(f"{spec.name} did not come back after the reboot within "
                                   f"{ctx.settings.reboot_timeout:g}s")
        try:
            return (await activate.probe(session)).current
        except UnreachableError:  # the old system was still going down
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(ctx.settings.poll_interval)
