"""state list/show/rm/pull/push, output and force-unlock."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reconciler.cli import context as ctx
from reconciler.cli.console import Out
from reconciler.config.loader import config_files
from reconciler.errors import ReconcilerError, StateError
from reconciler.state.backend import Backend
from reconciler.state.document import StateDoc
from reconciler.state.local import LocalBackend


def backend_of(args: argparse.Namespace) -> Backend:
    """The backend the configuration names (variables from the environment), or the default local file."""
    if not config_files(args.dir):
        return LocalBackend(args.dir / ctx.DEFAULT_STATE)
    loaded = ctx.load(args.dir, ctx.VarSources(env=ctx.environment()), require_all=False)
    return ctx.backend_for(loaded.config, loaded.variables)


def read_state(args: argparse.Namespace) -> StateDoc:
    return backend_of(args).read()


def _mask(value: object, sensitive: bool) -> object:
    return "(sensitive)" if sensitive else value


def cmd_state(args: argparse.Namespace, out: Out) -> int:
    backend = backend_of(args)
    if args.state_cmd == "list":
        for address in sorted(backend.read().resources):
            out.text(address)
        return 0
    if args.state_cmd == "show":
        doc = backend.read()
        res = doc.resources.get(args.address)
        if res is None:
            raise StateError(f"no resource {args.address} in state", hint="see reconciler state list")
        out.text(json.dumps({"address": res.address, **res.to_json()}, indent=2))
        return 0
    if args.state_cmd == "pull":
        out.text(backend.read().dumps())
        return 0
    from reconciler import api

    if args.state_cmd == "rm":
        api.state_rm(backend, args.address, args.lock_timeout)
        for a in args.address:
            out.text(f"Removed {a} from state (the real object, if any, is untouched).")
        return 0
    if args.state_cmd == "push":
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        written = api.state_push(backend, StateDoc.loads(text, args.file), args.file, force=args.force,
                                 lock_timeout=args.lock_timeout)
        out.text(f"Pushed state serial {written.serial}.")
        return 0
    raise ReconcilerError(f"unknown state command {args.state_cmd}")


def cmd_output(args: argparse.Namespace, out: Out) -> int:
    outputs = read_state(args).outputs
    if args.name:
        if args.name not in outputs:
            raise StateError(f'no output "{args.name}" in state', hint="outputs are recorded by apply")
        value = outputs[args.name]["value"]
        if args.json:
            out.text(json.dumps(value))
        elif isinstance(value, str):
            out.text(value)
        else:
            out.text(json.dumps(value, indent=2))
        return 0
    if args.json:
        out.text(json.dumps({k: {"value": v["value"], "sensitive": v.get("sensitive", False)}
                             for k, v in sorted(outputs.items())}, indent=2))
        return 0
    for name, entry in sorted(outputs.items()):
        out.text(f"{name} = {json.dumps(_mask(entry['value'], entry.get('sensitive', False)))}")
    return 0


def cmd_force_unlock(args: argparse.Namespace, out: Out) -> int:
    holder = backend_of(args).force_unlock(args.lock_id)
    out.text(f"Released {holder.describe()}. If that process is still running, its later state writes "
             "will be refused.")
    return 0
