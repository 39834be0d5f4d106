"""Getting a system closure onto a machine: build it (locally, batched, or on `build_host` through `--store
ssh-ng://...`), then `nix copy --substitute-on-destination` to it.

The copy speaks the ssh-ng protocol (the daemon protocol of `nix-daemon --stdio` on the target) in one of two
ways. "tunnel" (the default) carries it over the machine's one pinned asyncssh connection: a private local
unix socket whose every client gets a `nix-daemon --stdio` channel on that connection, and `nix copy --to
unix://SOCKET`; no second SSH connection, no second host-key check. "ssh-ng" runs `nix copy --to ssh-ng://...`
with OpenSSH checking the target against a one-line known_hosts file holding only its pinned key (also used to
copy from a build host)."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import shutil
import urllib.parse
from pathlib import Path

from reconciler.errors import ProviderError
from reconciler.nixos.context import Context
from reconciler.nixos.knownhosts import Pin
from reconciler.nixos.machine import MachineSpec, split_target
from reconciler.nixos.nixcmd import Result, check_built, failure
from reconciler.nixos.ssh import Session


def store_url(user: str | None, host: str, key_file: str | None) -> str:
    authority = f"{user}@{host}" if user else host
    url = f"ssh-ng://{authority}"
    if key_file:
        url += "?" + urllib.parse.urlencode({"ssh-key": key_file}, safe="/")
    return url


def split_host(text: str) -> tuple[str | None, str, int]:
    """"user@host:port" -> (user, host, port); port defaults to 22."""
    user, host, port = split_target(text)
    return user, host, port or 22


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


async def copy(ctx: Context, spec: MachineSpec, toplevel: str, pinned: str, session: Session) -> None:
    """Copy the closure to the target (from the build host when there is one)."""
    base = ["copy", "--no-check-sigs", "--substitute-on-destination"]
    if not spec.build_host and ctx.settings.copy_transport == "tunnel":
        result = await _copy_through(ctx, session, [*base, toplevel])
    else:
        target = store_url(spec.target_user, spec.target_host, spec.ssh_private_key_file)
        args = [*base, "--to", target, toplevel]
        if spec.build_host:
            user, host, bport = split_host(spec.build_host)
            if bport != spec.target_port:
                raise ProviderError("build_host and target_host must use the same SSH port to copy between them")
            args = [*base, "--from", store_url(user, host, spec.ssh_private_key_file), "--to", target, toplevel]
        env = {"NIX_SSHOPTS": ssh_options(ctx, spec, pinned, port=spec.target_port, with_others=bool(spec.build_host))}
        result = await ctx.tool.run(args, extra_env=env, timeout=ctx.settings.activation_timeout)
    if not result.ok:
        err = failure(f"copying the system of {spec.name} to {spec.target_host}", result)
        if "Host key verification failed" in result.stderr:
            err.hint = "the host's key is not the pinned one"
        raise err


async def _copy_through(ctx: Context, session: Session, args: list[str]) -> Result:
    """`nix copy ... --to unix://SOCKET`, the socket bridged to `nix-daemon --stdio` over `session`."""
    where = ctx.private_dir("tunnel-")
    sock = where / "daemon.sock"
    bridges: list[asyncio.Task[None]] = []

    async def bridge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        proc = await session.start(["nix-daemon", "--stdio"])

        async def upstream() -> None:
            while data := await reader.read(1 << 16):
                proc.stdin.write(data)
            proc.stdin.write_eof()

        async def downstream() -> None:
            while data := await proc.stdout.read(1 << 16):
                writer.write(data)
                await writer.drain()

        try:
            await asyncio.gather(upstream(), downstream())
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            proc.close()
            writer.close()

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bridges.append(asyncio.ensure_future(bridge(reader, writer)))

    server = await asyncio.start_unix_server(accept, path=str(sock))
    try:
        args = [*args[:-1], "--to", f"unix://{sock}", args[-1]]
        return await ctx.tool.run(args, timeout=ctx.settings.activation_timeout)
    finally:
        server.close()
        for task in bridges:
            task.cancel()
        for task in bridges:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        shutil.rmtree(where, ignore_errors=True)
