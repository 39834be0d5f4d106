"""validate, plan, apply, show and graph."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import api
from reconciler.cli import context as ctx
from reconciler.cli import interrupts, teardown
from reconciler.cli.console import Out
from reconciler.config.gcpause import gc_paused
from reconciler.config.variables import VarSources, cli_sources
from reconciler.errors import ReconcilerError, UserAbort
from reconciler.plan.planner import PlanOptions
from reconciler.state.document import StateDoc

# what only some commands need (the apply runner and its progress display, the renderers, saved plans) is
# imported where it is used, so `validate` and `plan` do not pay for `apply`'s modules at start-up
if TYPE_CHECKING:
    from reconciler.apply.hooks import Hooks
    from reconciler.apply.result import WalkResult
    from reconciler.plan.model import Plan


def _sources(args: argparse.Namespace) -> VarSources:
    return cli_sources(getattr(args, "var", None) or [], getattr(args, "var_file", None) or [], ctx.environment(),
                       order=getattr(args, "var_order", None) or ())


def workspace(args: argparse.Namespace, **kw: Any) -> api.Workspace:
    ws = api.load(args.dir, sources=_sources(args), lock_timeout=getattr(args, "lock_timeout", 0.0), **kw)
    teardown.keep(ws)
    return ws


def cmd_validate(args: argparse.Namespace, out: Out) -> int:
    with gc_paused():
        return _validate(args, out)


def _validate(args: argparse.Namespace, out: Out) -> int:
    ws = workspace(args, require_all=False)
    api.validate(ws)
    n = len(ws.model.decls.resources)
    out.text(f"The configuration is valid ({len(ws.model.config.files)} file(s), {n} resource(s)).")
    return 0


def _options(args: argparse.Namespace, *, destroy: bool) -> PlanOptions:
    return PlanOptions(refresh=args.refresh, destroy=destroy, targets=tuple(args.target or ()),
                       refresh_only=getattr(args, "refresh_only", False))


def print_plan(plan: Plan, args: argparse.Namespace, out: Out) -> None:
    if getattr(args, "json", False):
        from reconciler.plan.render_json import render_json

        out.text(json.dumps(render_json(plan), separators=(",", ":")))  # one line, as Terraform's
    elif getattr(args, "markdown", False):
        from reconciler.plan.render_markdown import render_markdown  # draws the plan graph (networkx)

        out.text(render_markdown(plan))
    else:
        from reconciler.plan.render_text import render_lines

        out.lines(render_lines(plan))


def cmd_plan(args: argparse.Namespace, out: Out) -> int:
    with gc_paused():
        ws = workspace(args)
        plan = api.plan(ws, _options(args, destroy=args.destroy))
        teardown.keep(plan)
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
    plain = PlainProgress()
    return plain, plain


async def run_interruptible(ws: api.Workspace, plan: Plan, hooks: Hooks, *, parallelism: int,
                            connect_to: dict[str, str] | None = None, expect: StateDoc | None = None) -> WalkResult:
    """api.apply_async with Ctrl-C handled: the first press starts nothing new, the second stops all."""
    import asyncio

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
        return await api.apply_async(ws, plan, hooks, parallelism=parallelism, stop=stop, connect_to=connect_to,
                                     expect=expect)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
            # the walk is over: a later press (e.g. while blocked calls return) exits at once
            signal.signal(signal.SIGINT, outside if outside is not None else signal.default_int_handler)


def cmd_apply(args: argparse.Namespace, out: Out) -> int:
    from reconciler.plan.planfile import load_plan
    from reconciler.plan.render_text import render_lines

    if args.planfile is not None:
        plan = load_plan(Path(args.planfile))
        ws = workspace(args, snapshot=plan.config, variables=plan.variables)
        # no `expect`: a saved plan applies only to the state it was made against (check_fresh)
        return apply_and_report(ws, plan, args, out)
    ws = workspace(args)
    with api.locked(ws, "apply"):  # held from the plan to the last step, as Terraform's apply holds it
        expect = api.read_state(ws)
        plan = api.run(api.plan_async(ws, _options(args, destroy=args.destroy), expect))
        out.lines(render_lines(plan))
        if not plan.has_changes:
            written = api.record_refresh(ws, plan)
            if written is not None and written.serial != expect.serial:
                out.text(f"Recorded what the refresh found in state (serial {written.serial}).")
            if not ws.model.decls.outputs:
                return 0
            expect = written or expect  # nothing to change, but outputs are recorded on every apply
        else:
            _confirm(plan, args)
        return apply_and_report(ws, plan, args, out, expect=expect)


def apply_and_report(ws: api.Workspace, plan: Plan, args: argparse.Namespace, out: Out, *,
                     connect_to: dict[str, str] | None = None, expect: StateDoc | None = None) -> int:
    hooks, display = _hooks(out)
    with display:
        result = api.run(run_interruptible(ws, plan, hooks, parallelism=args.parallelism, connect_to=connect_to,
                                               expect=expect))
    return _summary(result, out)


def _summary(result: WalkResult, out: Out) -> int:
    import asyncio

    for address, error in sorted(result.failed.items()):
        if isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
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
    from reconciler.apply.journal import pending_note
    from reconciler.plan.planfile import load_plan

    if args.planfile:
        print_plan(load_plan(Path(args.planfile)), args, out)
        return 0
    from reconciler.cli.state_cmds import read_state

    doc = read_state(args)
    if args.json:  # Terraform's state representation, on one line as Terraform prints it
        from reconciler.plan.render_json import state_json

        out.text(json.dumps(state_json(doc), separators=(",", ":")))
        return 0
    if not doc.resources:
        out.text("The state is empty.")
        return 0
    for address in sorted(doc.resources):
        res = doc.resources[address]
        out.text(f"{address}  id={res.id}" + (f"  ({pending_note(res.pending)})" if res.pending else ""))
    return 0


def cmd_graph(args: argparse.Namespace, out: Out) -> int:
    from reconciler.plan.graph import build_graph
    from reconciler.plan.planfile import load_plan
    from reconciler.plan.render_graph import to_dot, to_mermaid

    if args.planfile:
        plan = load_plan(Path(args.planfile))
    else:
        ws = workspace(args)
        plan = api.plan_offline(ws, PlanOptions(refresh=False))
    g = build_graph(plan)
    out.text(to_dot(g) if args.format == "dot" else to_mermaid(g))
    return 0
