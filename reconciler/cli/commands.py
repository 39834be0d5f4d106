"""validate, plan, apply, show and graph."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.cli import context as ctx
from reconciler.cli import interrupts
from reconciler.cli.console import Out
from reconciler.config.gcpause import gc_paused
from reconciler.config.outputs import check_outputs
from reconciler.config.variables import VarSources, cli_sources
from reconciler.errors import ReconcilerError, UserAbort
from reconciler.plan.planner import Planner, PlanOptions
from reconciler.state.document import StateDoc

# what only some commands need (the apply runner and its progress display, the renderers, saved plans) is
# imported where it is used, so `validate` and `plan` do not pay for `apply`'s modules at start-up
if TYPE_CHECKING:
    from reconciler.apply.hooks import Hooks
    from reconciler.apply.runner import Runner
    from reconciler.apply.walker import WalkResult
    from reconciler.plan.model import Plan
    from reconciler.state.backend import Backend


def _sources(args: argparse.Namespace) -> VarSources:
    return cli_sources(getattr(args, "var", None) or [], getattr(args, "var_file", None) or [], ctx.environment(),
                       order=getattr(args, "var_order", None) or ())


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
    check_outputs(loaded.config, loaded.variables)
    state = StateDoc.new()
    providers = ctx.providers_for(loaded, state.lineage, offline=True)
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
    from reconciler.plan.render_json import render_json
    from reconciler.plan.render_markdown import render_markdown
    from reconciler.plan.render_text import render_lines

    if getattr(args, "json", False):
        out.text(json.dumps(render_json(plan), indent=2, sort_keys=False))
    elif getattr(args, "markdown", False):
        out.text(render_markdown(plan))
    else:
        out.lines(render_lines(plan))


def cmd_plan(args: argparse.Namespace, out: Out) -> int:
    with gc_paused():
        loaded = ctx.load(args.dir, _sources(args))
        check_outputs(loaded.config, loaded.variables)
        backend = ctx.backend_for(loaded.config, loaded.variables)
        # reading needs no lock (every write is an atomic rename or one transaction): --no-refresh takes
        # none, so a read-only state folder can still be planned against
        with locked(backend, "plan", args.lock_timeout) if args.refresh else contextlib.nullcontext():
            state = backend.read()
            plan = asyncio.run(_make_plan(args, loaded, state, destroy=args.destroy))
        print_plan(plan, args, out)
        gc.freeze()  # what was built lives until exit: spare the collector one last scan of all of it
    if args.out:
        from reconciler.plan.planfile import save_plan

        save_plan(plan, Path(args.out))
        if not args.json:
            again = f"reconciler apply {args.out}" if args.dir == Path(".") else \
                f"reconciler -C {args.dir} apply {os.path.relpath(args.out, args.dir)}"
            out.text(f"Saved the plan to {args.out}; apply it exactly with: {again}")
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
    from reconciler.cli.progress import LiveProgress, PlainProgress

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
        interrupts.announced()
        if presses == 1:
            sys.stderr.write("\nInterrupted: no new steps start; running ones finish (Ctrl-C again to stop them).\n")
            stop.set()
        else:  # stop the running steps themselves; the walk records each as stopped and ends normally
            for task in asyncio.all_tasks(loop):
                if task is not main:
                    task.cancel()

    outside = signal.getsignal(signal.SIGINT)
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        return await runner.run(stop)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
            # the walk is over: a later press (e.g. while blocked calls return) exits at once
            signal.signal(signal.SIGINT, outside if outside is not None else signal.default_int_handler)
        await runner.providers.close()


def cmd_apply(args: argparse.Namespace, out: Out) -> int:
    from reconciler.apply.journal import StateWriter
    from reconciler.apply.runner import ApplyOptions, Runner
    from reconciler.plan.planfile import check_fresh, load_plan
    from reconciler.plan.render_text import render_lines

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
                if not loaded.config.decls.outputs:
                    return 0
                state = backend.read()  # nothing to change, but outputs are recorded on every apply
            else:
                _confirm(plan, args)
        doc = state if state.exists else StateDoc(lineage=plan.lineage, exists=False)
        providers = ctx.providers_for(loaded, doc.lineage)
        planner = Planner(loaded.config, loaded.variables, providers, loaded.provider_settings)
        writer = StateWriter(backend, doc, keep_dir=loaded.config.directory / ".reconciler" / "refused")
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
        if isinstance(error, asyncio.CancelledError | KeyboardInterrupt):
            lines = ["stopped by Ctrl-C; state keeps its pending record and the next apply resumes it"]
        else:
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
        from reconciler.plan.planfile import load_plan

        print_plan(load_plan(Path(args.planfile)), args, out)
        return 0
    from reconciler.cli.state_cmds import read_state

    doc = read_state(args)
    if args.json:
        out.text(json.dumps(doc.to_json(), indent=2))
        return 0
    if not doc.resources:
        out.text("The state is empty.")
        return 0
    for address in sorted(doc.resources):
        res = doc.resources[address]
        from reconciler.apply.journal import pending_note

        out.text(f"{address}  id={res.id}" + (f"  ({pending_note(res.pending)})" if res.pending else ""))
    return 0


def cmd_graph(args: argparse.Namespace, out: Out) -> int:
    from reconciler.plan.graph import build_graph
    from reconciler.plan.planfile import load_plan
    from reconciler.plan.render_graph import to_dot, to_mermaid

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
