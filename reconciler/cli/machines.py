"""`machines list|install|update|known-hosts`: clan-style shortcuts over the NixOS machines. The work is the
library's (reconciler.api); this module parses nothing and prints."""

from __future__ import annotations

import argparse

from reconciler import api
from reconciler.actions import Action
from reconciler.cli import context as ctx
from reconciler.cli.commands import _hooks, _summary, run_interruptible, workspace
from reconciler.cli.console import Out
from reconciler.cli.fleet import Fleet, load_fleet
from reconciler.nixos import known_hosts_from_state
from reconciler.plan.refresh import recorded
from reconciler.plan.render_text import render_lines, short_store_path


def cmd_machines(args: argparse.Namespace, out: Out) -> int:
    if args.machines_cmd == "known-hosts":
        loaded = ctx.load(args.dir, ctx.VarSources(env=ctx.environment()), require_all=False)
        state = ctx.backend_for(loaded.config, loaded.variables).read()
        text = known_hosts_from_state([recorded(r) for r in state.resources.values() if r.type == "nixos_machine"])
        out.text(text if text else "# no pinned host keys yet")
        return 0
    if args.machines_cmd == "list":
        return _list(load_fleet(args), out)
    if args.machines_cmd == "install":
        return _install(args, out)
    return _update(args, out)


def _list(fleet: Fleet, out: Out) -> int:
    if not fleet.machines:
        out.text("No nixos_machine in the configuration.")
        return 0
    out.text(f"{'machine':<16} {'host':<18} {'tags':<24} {'deployed':<40} next")
    for name, m in sorted(fleet.machines.items()):
        host = m.attributes.get("target_host")
        deployed = (m.recorded.attributes.get("toplevel") if m.recorded else None) or "-"
        action = m.change.action if m.change else Action.NOOP
        nxt = "up to date" if action is Action.NOOP else f"{action.symbol.strip()} {action.value}"
        if m.attributes.get("require_explicit_update"):
            nxt += " (explicit update only)"
        tags = ",".join(m.attributes.get("tags") or [])
        out.text(f"{name:<16} {host if isinstance(host, str) else '(known after apply)':<18} {tags:<24} "
                 f"{short_store_path(str(deployed)):<40} {nxt}")
    return 0


def _install(args: argparse.Namespace, out: Out) -> int:
    import asyncio

    ws = workspace(args)
    hooks, display = _hooks(out)
    # the library plans and applies; the CLI prints the plan first and runs it with Ctrl-C handling
    state = api.read_state(ws)
    plan = api.install_plan(ws, args.name, state)
    out.lines(render_lines(plan))
    connect = api.install_connect(plan, args.name, args.target_host)
    with display:
        result = asyncio.run(run_interruptible(ws, plan, hooks, parallelism=args.parallelism, connect_to=connect,
                                               expect=state))
    return _summary(result, out)


def _update(args: argparse.Namespace, out: Out) -> int:
    import asyncio

    ws = workspace(args)
    state = api.read_state(ws)
    plan, skipped = api.update_plan(ws, args.names, state)
    for address in skipped:
        out.text(f"{address}: not installed yet; skipped (use reconciler apply or machines install)")
    out.lines(render_lines(plan))
    if args.dry_run or not plan.has_changes:
        return 0
    hooks, display = _hooks(out)
    with display:
        result = asyncio.run(run_interruptible(ws, plan, hooks, parallelism=args.parallelism, expect=state))
    return _summary(result, out)
