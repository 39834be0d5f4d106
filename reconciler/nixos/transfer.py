"""Getting a system closure onto a machine: build it (locally, or on `build_host` through `--store
ssh-ng://...`), then `nix copy --to ssh-ng://... --substitute-on-destination`. The SSH that nix runs checks the
target against a one-line known_hosts file holding only its pinned key, so `nix copy` is as strict as our own
connections."""

from __future__ import annotations

import shlex
import urllib.parse
from pathlib import Path

from reconciler.errors import ProviderError
from reconciler.nixos.context import Context
from reconciler.nixos.knownhosts import Pin
from reconciler.nixos.machine import MachineSpec
from reconciler.nixos.nixcmd import check_built, failure


def store_url(user: str | None, host: str, key_file: str | None) -> str:
    authority = f"{user}@{host}" if user else host
    url = f"ssh-ng://{authority}"
    if key_file:
        url += "?" + urllib.parse.urlencode({"ssh-key": key_file}, safe="/")
    return url


def split_host(text: str) -> tuple[str | None, str, int]:
    """"user@host:port" -> (user, host, port); port defaults to 22."""
    user, _, rest = text.rpartition("@")
    host, port = rest, 22
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        if tail.startswith(":"):
            port = int(tail[1:])
    elif rest.count(":") == 1:
        host, _, p = rest.partition(":")
        port = int(p)
    return user or None, host, port


def _known_hosts_file(ctx: Context, spec: MachineSpec, pinned: str, *, with_others: bool) -> Path:
    lines = [Pin(spec.name, spec.target_host, spec.target_port, pinned).line()]
    if with_others:  # a build host: any key we pinned, and the user's own known_hosts
        lines += ctx.known_hosts.text().splitlines()
        user_file = Path("~/.ssh/known_hosts").expanduser()
        if user_file.exists():
            lines += user_file.read_text().splitlines()
    path = ctx.private_dir("kh-") / "known_hosts"
    path.write_text("\n".join(lines) + "\n")
    return path


def ssh_options(ctx: Context, spec: MachineSpec, pinned: str, *, port: int, with_others: bool = False) -> str:
    """NIX_SSHOPTS (nix splits it on blanks: every part here is blank-free)."""
    known = _known_hosts_file(ctx, spec, pinned, with_others=with_others)
    opts = ["-p", str(port), "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={int(ctx.settings.connect_timeout)}"]
    if any(" " in o for o in opts):
        raise ProviderError(f"scratch directory {known.parent} has a blank in its path; set TMPDIR")
    return shlex.join(opts)


async def build(ctx: Context, spec: MachineSpec, toplevel: str) -> None:
    """Realise the system closure where it will be copied from; it must be the planned store path."""
    if not spec.build_host:
        await ctx.builder.build(spec.flake.installable, toplevel, spec.name)
        return
    user, host, port = split_host(spec.build_host)
    args = ["build", "--no-link", "--json", "--eval-store", "auto",
            "--store", store_url(user, host, spec.ssh_private_key_file), spec.flake.installable]
    env = {"NIX_SSHOPTS": ssh_options(ctx, spec, _pin_of(ctx, spec), port=port, with_others=True)}
    result = await ctx.tool.run(args, extra_env=env, timeout=ctx.settings.activation_timeout)
    if not result.ok:
        raise failure(f"building the system of {spec.name} on {spec.build_host}", result)
    check_built(result, spec.name, spec.flake.installable, toplevel)


def _pin_of(ctx: Context, spec: MachineSpec) -> str:
    pin = ctx.known_hosts.pins().get(spec.name)
    return pin.key if pin else (spec.host_key or "")


async def copy(ctx: Context, spec: MachineSpec, toplevel: str, pinned: str) -> None:
    """Copy the closure to the target (from the build host when there is one)."""
    target = store_url(spec.target_user, spec.target_host, spec.ssh_private_key_file)
    args = ["copy", "--no-check-sigs", "--substitute-on-destination", "--to", target, toplevel]
    port = spec.target_port
    with_others = False
    if spec.build_host:
        user, host, bport = split_host(spec.build_host)
        if bport != spec.target_port:
            raise ProviderError("build_host and target_host must use the same SSH port to copy between them")
        args = ["copy", "--no-check-sigs", "--substitute-on-destination",
                "--from", store_url(user, host, spec.ssh_private_key_file), "--to", target, toplevel]
        with_others = True
    env = {"NIX_SSHOPTS": ssh_options(ctx, spec, pinned, port=port, with_others=with_others)}
    result = await ctx.tool.run(args, extra_env=env, timeout=ctx.settings.activation_timeout)
    if not result.ok:
        hint = None
        if "Host key verification failed" in result.stderr:
            hint = "the host's key is not the pinned one"
        err = failure(f"copying the system of {spec.name} to {spec.target_host}", result)
        err.hint = hint
        raise err
