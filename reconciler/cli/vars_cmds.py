"""`vars generate|list|get|set`: per-machine generated values and secrets (CONTRACT §3)."""

from __future__ import annotations

import argparse
import sys

from reconciler.cli import context as ctx
from reconciler.cli.console import Out
from reconciler.cli.fleet import generators, load_fleet, vars_store
from reconciler.errors import ReconcilerError
from reconciler.vars.generate import generate
from reconciler.vars.ssh_host_key import GENERATOR as HOST_KEY
from reconciler.vars.ssh_host_key import PRIVATE_FILE, PUBLIC_FILE


def _split(ref: str) -> tuple[str, str]:
    gen, sep, file = ref.partition("/")
    if not sep or not gen or not file:
        raise ReconcilerError(f'"{ref}" is not GENERATOR/FILE', hint="e.g. zerotier/network_id")
    return gen, file


def cmd_vars(args: argparse.Namespace, out: Out) -> int:
    if args.vars_cmd in ("get", "set", "list"):
        loaded = ctx.load(args.dir, ctx.VarSources(env=ctx.environment()), require_all=False)
        store = vars_store(loaded)
        gens = generators(loaded)
    if args.vars_cmd == "list":
        names: list[str] = [args.machine] if args.machine else sorted(
            p.name for p in (store.root / "per-machine").iterdir()) if (store.root / "per-machine").is_dir() else []
        for machine in names:
            for f in store.files(machine):
                shown = "(secret)" if f.secret else (store.get_public(machine, f.generator, f.file) or "").strip()
                if len(shown) > 60:
                    shown = shown[:57] + "..."
                out.text(f"{machine}  {f.generator}/{f.file}  {shown}")
        return 0
    if args.vars_cmd == "get":
        gen, file = _split(args.ref)
        if store.has_secret(args.machine, gen, file):
            sys.stdout.buffer.write(store.get_secret(args.machine, gen, file))
            return 0
        public = store.get_public(args.machine, gen, file)
        if public is None:
            raise ReconcilerError(f"no var {gen}/{file} for machine {args.machine}",
                                  hint="see reconciler vars list, or run reconciler vars generate")
        out.text(public.rstrip("\n"))
        return 0
    if args.vars_cmd == "set":
        gen, file = _split(args.ref)
        data = sys.stdin.buffer.read()
        if gen == HOST_KEY:
            secret = file == PRIVATE_FILE
            if file not in (PRIVATE_FILE, PUBLIC_FILE):
                raise ReconcilerError(f"ssh_host_key has no file {file}")
        else:
            spec = gens.get(gen)
            match = [f for f in spec.files if f.name == file] if spec else []
            if not match:
                raise ReconcilerError(f'no vars "{gen}" file "{file}" in the configuration',
                                      hint="declare it in a vars block first")
            secret = match[0].secret
        if secret:
            store.set_secret(args.machine, gen, file, data)
        else:
            store.set_public(args.machine, gen, file, data.decode())
        out.text(f"Set {gen}/{file} for {args.machine}" + (" (secret, encrypted)" if secret else ""))
        return 0
    fleet = load_fleet(args)
    store = vars_store(fleet.loaded)
    wanted = args.machines or sorted(fleet.machines)
    unknown = [m for m in wanted if m not in fleet.machines]
    if unknown:
        raise ReconcilerError(f'no machine "{unknown[0]}"', hint="machines: " + ", ".join(sorted(fleet.machines)))
    tags = {m: list(fleet.machines[m].attributes.get("tags") or []) for m in wanted}
    done = generate(store, generators(fleet.loaded), tags, fleet.loaded.config.directory,
                    regenerate=args.regenerate)
    for machine, gen in done:
        out.text(f"generated {gen} for {machine}")
    if not done:
        out.text("Every var is already generated (use --regenerate to make new ones).")
    return 0
