"""validate, plan, apply, show and graph."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from reconciler.apply.hooks import Hooks
from reconciler.apply.journal import StateWriter
from reconciler.apply.runner import ApplyOptions, Runner
from reconciler.apply.walker import WalkResult
from reconciler.cli import context as ctx
from reconciler.cli.console import Out
from reconciler.cli.progress import LiveProgress, PlainProgress
from reconciler.config.gcpause import gc_paused
from reconciler.config.variables import VarSources, cli_sources
from reconciler.errors import ReconcilerError, UserAbort
from reconciler.plan.graph import build_graph
from reconciler.plan.model import Plan
from reconciler.plan.planfile import check_fresh, load_plan, save_plan
from reconciler.plan.planner import Planner, PlanOptions
from reconciler.plan.render_graph import to_dot, to_mermaid
from reconciler.plan.render_json import render_json, state_json
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_lines
from reconciler.state.backend import Backend
from reconciler.state.document import StateDoc


def _sources(args: argparse.Namespace) -> VarSources:
    return cli_sources(getattr(args, "var", None) or [], getattr(args, "var_file", None) or [], ctx.environment())


@contextlib.contextmanager
def locked(backend: Backend, operation: str, timeout: float) -> Iterator[None]:
    info = backend.lock(operation, timeout)
    try:
        yield
    finally:
        backend.unlock(info)


def cmd_validate(args: argparse.Namespace, out: Out) -> int:
    with gc_paused():
        return _validate(args, out)


def _validate(args: argparse.Namespace, out: Out) -> int:
    loaded = ctx.load(args.dir, _sources(args), require_all=False)
    state = StateDoc.new()
    providers = ctx.providers_for(loaded, state.lineage)
    planner = Planner(loaded.config, loaded.variables, providers, loaded.provider_settings)
    asyncio.run(planner.plan(state, PlanOptions(refresh=False, validate_only=True)))
    n = len(loaded.config.decls.resources)
    out.text(f"The configuration is valid ({len(loaded.config.files)} file(s), {n} resource(s)).")
    return 0


async def _make_plan(args: argparse.Namespace, loaded: ctx.Loaded, state: StateDoc, *, destroy: bool) -> Plan:
    providers = ctx.providers_for(loaded, state.lineage)
    try:
        planner = Planner(loaded.config, loaded.variables, providers, loaded.provider_settings)
        options = PlanOptions(refresh=args.refresh, destroy=destroy, targets=tuple(args.target or ()),
                              refresh_only=getattr(args, "refresh_only", False))
        return await planner.plan(state, options)
    finally:
        await providers.close()


def print_plan(plan: Plan, args: argparse.Namespace, out: Out) -> None:
    if getattr(args, "json", False):
        out.text(json.dumps(render_json(plan), separators=(",", ":")))  # one line, as Terraform's
    elif getattr(args, "markdown", False):
        out.text(render_markdown(plan))
    else:
        out.lines(render_lines(plan))


def cmd_plan(args: argparse.Namespace, out: Out) -> int:
    with gc_paused():
        loaded = ctx.load(args.dir, _sources(args))
        backend = ctx.backend_for(loaded.config, loaded.variables)
        with locked(backend, "plan", args.lock_timeout):
            state = backend.read()
            plan = asyncio.run(_make_plan(args, loaded, state, destroy=args.destroy))
        print_plan(plan, args, out)
        gc.freeze()  # what was built lives until exit: spare the collector one last scan of all of it
    if args.out:
        save_plan(plan, Path(args.out))
        if not args.json:
            out.text(f"Saved the plan to {args.out}; apply it exactly with: reconciler apply {args.out}")
    if args.detailed_exitcode and (plan.has_changes or (plan.refresh_only and plan.drift)):
        return 2
    return 0


def _confirm(plan: Plan, args: argparse.Namespace) -> None:
    if args.auto_approve:
        return
    if not sys.stdin.isatty():
        raise UserAbort("apply needs a yes on a terminal", hint="pass --auto-approve, or apply a saved plan file")
    answer = input("Do you want to perform these actions? Only 'yes' will be accepted: ")
    if answer.strip() != "yes":
        raise UserAbort("apply cancelled")


def _hooks(out: Out) -> tuple[Hooks, contextlib.AbstractContextManager[object]]:
    if out.color:
        live = LiveProgress()
        return live, live
    return PlainProgress(), contextlib.nullcontext()


async def _run(runner: Runner) -> WalkResult:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    presses = 0

    def interrupt() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            sys.stderr.write("\nInterrupted: no new steps start; running ones finish (Ctrl-C again to stop them).\n")
            stop.set()
        elif main is not None:
            main.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        return await runner.run(stop)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        await runner.providers.close()


def cmd_apply(args: argparse.Namespace, out: Out) -> int:
    saved = args.planfile is not None
    if saved:
        plan = load_plan(Path(args.planfile))
        loaded = ctx.load(args.dir, _sources(args), snapshot=plan.config, variables=plan.variables)
    else:
        loaded = ctx.load(args.dir, _sources(args))
    backend = ctx.backend_for(loaded.config, loaded.variables)
    with locked(backend, "apply", args.lock_timeout):
        state = backend.read()
        if saved:
            check_fresh(plan, state)
        else:
            plan = asyncio.run(_make_plan(args, loaded, state, destroy=args.destroy))
            out.lines(render_lines(plan))
            if not plan.has_changes:
                _record_refresh(backend, state, plan, out)
                return 0
            _confirm(plan, args)
        doc = state if state.exists else StateDoc(lineage=plan.lineage, exists=False)
        providers = ctx.providers_for(loaded, doc.lineage)
        planner = Planner(loaded.config, loaded.variables, providers, loaded.provider_settings)
        writer = StateWriter(backend, doc)
        hooks, display = _hooks(out)
        runner = Runner(plan, planner, providers, writer, hooks, ApplyOptions(parallelism=args.parallelism))
        with display:
            result = asyncio.run(_run(runner))
    return _summary(result, out)


def _record_refresh(backend: Backend, state: StateDoc, plan: Plan, out: Out) -> None:
    """Nothing to do, but what the refresh found (vanished or adopted objects) still goes into state."""
    if plan.refreshed_state is None or (not state.exists and not plan.drift):
        return
    refreshed = StateDoc.loads_json(plan.refreshed_state)
    written = backend.write(dataclasses.replace(state, resources=refreshed.resources))
    if written.serial != state.serial:
        out.text(f"Recorded what the refresh found in state (serial {written.serial}).")


def _summary(result: WalkResult, out: Out) -> int:
    for address, error in sorted(result.failed.items()):
        lines = error.lines() if isinstance(error, ReconcilerError) else [f"{type(error).__name__}: {error}"]
        for line in lines:
            out.error(line if line.startswith(address) else f"{address}: {line}")
    n_skip = len(result.skipped)
    out.text(f"Apply {'complete' if result.ok else 'finished with errors'}: {len(result.done)} done, "
             f"{len(result.failed)} failed, {n_skip} skipped (upstream failed)"
             + (f", {len(result.not_started)} not started (interrupted)" if result.not_started else "") + ".")
    return 0 if result.ok else 1


def cmd_show(args: argparse.Namespace, out: Out) -> int:
    if args.planfile:
        print_plan(load_plan(Path(args.planfile)), args, out)
        return 0
    from reconciler.cli.state_cmds import read_state

    doc = read_state(args)
    if args.json:  # Terraform's state representation, on one line as Terraform prints it
        out.text(json.dumps(state_json(doc), separators=(",", ":")))
        return 0
    if not doc.resources:
        out.text("The state is empty.")
        return 0
    for address in sorted(doc.resources):
        res = doc.resources[address]
        out.text(f"{address}  id={res.id}" + ("  (pending: an apply stopped midway)" if res.pending else ""))
    return 0


def cmd_graph(args: argparse.Namespace, out: Out) -> int:
    if args.planfile:
        plan = load_plan(Path(args.planfile))
    else:
        loaded = ctx.load(args.dir, _sources(args))
        backend = ctx.backend_for(loaded.config, loaded.variables)
        state = backend.read()
        args.refresh, args.target = False, []
        plan = asyncio.run(_make_plan(args, loaded, state, destroy=False))
    g = build_graph(plan)
    out.text(to_dot(g) if args.format == "dot" else to_mermaid(g))
    return 0
