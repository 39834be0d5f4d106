"""cost and import."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from providers.base import ResourceKind
from reconciler import api
from reconciler.cli.commands import workspace
from reconciler.cli.console import Out
from reconciler.plan.model import Plan
from reconciler.plan.planfile import load_plan
from reconciler.plan.render_text import cost_lines, money


def cmd_cost(args: argparse.Namespace, out: Out) -> int:
    if args.planfile:
        plan: Plan = load_plan(Path(args.planfile))
        ws = workspace(args, snapshot=plan.config, variables=plan.variables)
    else:
        ws = workspace(args)
        plan = asyncio.run(api.plan_async(ws))
    providers = ws.providers(plan.lineage)
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
    res = api.import_resource(workspace(args), args.address, args.id)
    out.text(f"Imported {args.address} (id {res.id}). Run reconciler plan to see how it differs from the "
             f"configuration.")
    return 0
