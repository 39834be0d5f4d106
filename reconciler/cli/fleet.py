"""What `machines` and `vars` commands need to know of the fleet: its NixOS machines with their evaluated
attributes and recorded state, and the vars generators of the configuration."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.cli import context as ctx
from reconciler.config.scope import ConfigScope, machine_name
from reconciler.plan.model import Plan, ResourceChange
from reconciler.plan.planner import PlanOptions
from reconciler.state.document import ResourceState, StateDoc
from reconciler.vars.generate import BUILTIN_DEFAULT_FILE, FileSpec, Generator
from reconciler.vars.store import VarsStore

MACHINE = "nixos_machine"


@dataclass(frozen=True)
class Machine:
    name: str
    address: str
    attributes: dict[str, Any]  # evaluated configuration (planned values)
    change: ResourceChange | None
    recorded: ResourceState | None


@dataclass(frozen=True)
class Fleet:
    loaded: ctx.Loaded
    state: StateDoc
    plan: Plan
    machines: dict[str, Machine]


def load_fleet(args: argparse.Namespace, *, targets: tuple[str, ...] = ()) -> Fleet:
    from reconciler import api

    sources = ctx.VarSources(cli=tuple(getattr(args, "var", None) or ()), env=ctx.environment())
    ws = api.load(args.dir, sources=sources)
    loaded = ctx.Loaded(ws.model.config, ws.model.variables, {k: dict(v) for k, v in ws.provider_settings.items()})
    state = api.read_state(ws)
    plan = asyncio.run(api.plan_async(ws, PlanOptions(refresh=False, targets=targets), state))
    machines: dict[str, Machine] = {}
    for c in plan.changes:
        if c.type != MACHINE:
            continue
        attrs = dict(c.after if c.after is not None else c.before or {})
        machines[machine_name(c.address)] = Machine(machine_name(c.address), c.address, attrs, c,
                                                   state.resources.get(c.address))
    return Fleet(loaded, state, plan, machines)


def vars_store(loaded: ctx.Loaded) -> VarsStore:
    recipients: list[str] = []
    secrets = loaded.config.decls.secrets
    if secrets is not None and "recipients" in secrets.attributes:
        from reconciler.config.evaluator import evaluate

        scope = ConfigScope(loaded.config.directory, loaded.variables, {}, {})
        recipients = list(evaluate(secrets.attributes["recipients"], scope) or [])
    return VarsStore(Path(loaded.config.directory) / "vars", recipients)


def generators(loaded: ctx.Loaded) -> dict[str, Generator]:
    from reconciler.config.evaluator import evaluate

    scope = ConfigScope(loaded.config.directory, loaded.variables, {}, {})
    out: dict[str, Generator] = {}
    for name, decl in loaded.config.decls.vars.items():
        attrs = {k: evaluate(e, scope) for k, e in decl.attributes.items()}
        files = tuple(FileSpec(f.name, bool(evaluate(f.attributes["secret"], scope)) if "secret" in f.attributes
                               else True) for f in decl.files)
        builtin = attrs.get("builtin")
        if not files and builtin in BUILTIN_DEFAULT_FILE:
            files = (FileSpec(BUILTIN_DEFAULT_FILE[builtin], True),)
        machines = attrs.get("machines")
        out[name] = Generator(name, tuple(machines) if machines is not None else None, tuple(attrs.get("tags") or ()),
                              bool(attrs.get("share", False)), tuple(attrs.get("dependencies") or ()), files,
                              attrs.get("script"), builtin, decl.pos)
    return out
