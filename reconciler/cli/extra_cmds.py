"""cost and import."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from providers.base import ImportRequest, ResourceKind
from reconciler.cli import context as ctx
from reconciler.cli.commands import _make_plan, _sources, locked
from reconciler.cli.console import Out
from reconciler.config.scope import split_address
from reconciler.errors import ReconcilerError, StateError
from reconciler.plan.model import Plan
from reconciler.plan.planfile import load_plan
from reconciler.plan.render_text import cost_lines, money
from reconciler.state.document import ResourceState


def cmd_cost(args: argparse.Namespace, out: Out) -> int:
    if args.planfile:
        plan: Plan = load_plan(Path(args.planfile))
        loaded = ctx.load(args.dir, _sources(args), snapshot=plan.config, variables=plan.variables)
    else:
        loaded = ctx.load(args.dir, _sources(args))
        state = ctx.backend_for(loaded.config, loaded.variables).read()
        args.target = []
        plan = asyncio.run(_make_plan(args, loaded, state, destroy=False))
    providers = ctx.providers_for(loaded, plan.lineage)
    rows = []
    for c in plan.changes:
        if providers.type_info(c.type).kind is not ResourceKind.CLOUD:
            continue
        before = providers.for_type(c.type).price(c.type, dict(c.before)) if c.before else None
        after = providers.for_type(c.type).price(c.type, dict(c.after)) if c.after else None
        rows.append((c.address, before, after))
    for address, before, after in rows:
        b = money(before.monthly, before.currency) if before else "-"
        a = money(after.monthly, after.currency) if after else "-"
        out.text(f"{address:<50} {b:>14} -> {a:>14}")
    for line in cost_lines(plan.cost):
        out.text(line)
    return 0


def cmd_import(args: argparse.Namespace, out: Out) -> int:
    loaded = ctx.load(args.dir, _sources(args))
    base, _ = split_address(args.address)
    decl = loaded.config.decls.resources.get(base)
    if decl is None:
        raise ReconcilerError(f"{args.address} is not in the configuration",
                              hint=f'add resource "{base.split(".")[0]}" "{base.split(".", 1)[1]}" {{...}} first')
    backend = ctx.backend_for(loaded.config, loaded.variables)
    with locked(backend, "import", args.lock_timeout):
        state = backend.read()
        if args.address in state.resources:
            raise StateError(f"{args.address} is already in state", hint="reconciler state rm it first")
        providers = ctx.providers_for(loaded, state.lineage)

        async def fetch() -> ResourceState:
            try:
                obs = await providers.for_type(decl.type).import_resource(ImportRequest(args.address, decl.type,
                                                                                        args.id))
            finally:
                await providers.close()
            return ResourceState(args.address, decl.type, obs.id, dict(obs.attributes), dict(obs.private))

        res = asyncio.run(fetch())
        backend.write(state.with_resource(res))
    out.text(f"Imported {args.address} (id {res.id}). Run reconciler plan to see how it differs from the "
             f"configuration.")
    return 0
