"""`machines list|install|update|known-hosts`: clan-style shortcuts over the NixOS machines."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses

from reconciler.actions import Action
from reconciler.apply.journal import StateWriter
from reconciler.apply.runner import ApplyOptions, Runner
from reconciler.cli import context as ctx
from reconciler.cli.commands import _hooks, _run, _summary, locked
from reconciler.cli.console import Out
from reconciler.cli.fleet import Fleet, load_fleet
from reconciler.errors import ReconcilerError
from reconciler.nixos import known_hosts_from_state, machines_to_update
from reconciler.plan.model import Plan
from reconciler.plan.planner import Planner
from reconciler.plan.refresh import recorded
from reconciler.plan.render_text import render_lines, short_store_path
from reconciler.reasons import Reason


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
                 f"{short_store_path(deployed):<40} {nxt}")
    return 0


def _apply_plan(args: argparse.Namespace, out: Out, fleet: Fleet, plan: Plan,
                overrides: dict[str, dict[str, object]] | None = None) -> int:
    out.lines(render_lines(plan))
    if not plan.has_changes:
        return 0
    loaded = fleet.loaded
    backend = ctx.backend_for(loaded.config, loaded.variables)
    with locked(backend, "machines", getattr(args, "lock_timeout", 0.0)):
        state = backend.read()
        if state.serial != fleet.state.serial or state.lineage != fleet.state.lineage:
            raise ReconcilerError("the state changed while planning", hint="run the command again")
        doc = state if state.exists else dataclasses.replace(state, lineage=plan.lineage)
        providers = ctx.providers_for(loaded, doc.lineage)
        planner = Planner(loaded.config, loaded.variables, providers, loaded.provider_settings)
        hooks, display = _hooks(out)
        writer = StateWriter(backend, doc, keep_dir=loaded.config.directory / ".reconciler" / "refused")
        runner = Runner(plan, planner, providers, writer, hooks,
                        ApplyOptions(parallelism=args.parallelism), overrides=overrides or {})
        with display:
            result = asyncio.run(_run(runner))
    return _summary(result, out)


def _install(args: argparse.Namespace, out: Out) -> int:
    fleet = load_fleet(args)
    machine = fleet.machines.get(args.name)
    if machine is None:
        raise ReconcilerError(f'no machine "{args.name}"', hint="machines: " + ", ".join(sorted(fleet.machines)))
    fleet = load_fleet(args, targets=(machine.address,))
    change = fleet.plan.change(machine.address)
    if change.action is not Action.INSTALL:
        change = dataclasses.replace(change, action=Action.INSTALL, reason=Reason.INSTALL_NEW_HOST)
    after = dict(change.after or {})
    overrides: dict[str, dict[str, object]] = {}
    if args.target_host:
        after["target_host"] = args.target_host
        overrides[machine.address] = {"target_host": args.target_host}
    change = dataclasses.replace(change, after=after)
    changes = tuple(change if c.address == machine.address else c for c in fleet.plan.changes)
    return _apply_plan(args, out, fleet, dataclasses.replace(fleet.plan, changes=changes), overrides)


def _update(args: argparse.Namespace, out: Out) -> int:
    fleet = load_fleet(args)
    names = machines_to_update({n: m.attributes for n, m in fleet.machines.items()}, args.names)
    addresses = {fleet.machines[n].address for n in names}
    keep = []
    for c in fleet.plan.changes:
        if c.address in addresses and c.action is Action.NIXOS_UPDATE:
            keep.append(c)
        elif c.address in addresses and c.action is Action.INSTALL:
            out.text(f"{c.address}: not installed yet; skipped (use reconciler apply or machines install)")
    plan = dataclasses.replace(fleet.plan, changes=tuple(keep), after_edges=fleet.plan.after_edges)
    if args.dry_run:
        out.lines(render_lines(plan))
        return 0
    return _apply_plan(args, out, fleet, plan)
