"""`reconciler`: parse GNU-style arguments, run one command, print errors as one line each.

Exit codes: 0 success (no changes with --detailed-exitcode), 1 error, 2 changes present with
--detailed-exitcode.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from reconciler import __version__
from reconciler.cli import teardown
from reconciler.cli.console import Out
from reconciler.errors import ReconcilerError

# The cloud SDKs' own notices (e.g. google-api-core's FutureWarning about Python versions) are not the
# user's problem and would break the one-line-per-problem output: keep them off the terminal.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google(\.|$)")
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(google|hcloud)(\.|$)")

Command = Callable[[argparse.Namespace, Out], int]


class Parser(argparse.ArgumentParser):
    """Usage errors as one line and exit 1, like every other error (exit 2 means "the plan has changes")."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {self.prog}: {message} (see {self.prog} --help)\n")
        raise SystemExit(1)


def _common() -> Parser:
    p = Parser(add_help=False)
    p.add_argument("-C", "--chdir", dest="dir", type=Path, default=argparse.SUPPRESS,
                   help="the configuration directory (default: .)")
    p.add_argument("--no-color", action="store_true", default=argparse.SUPPRESS, help="plain output")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return p


class _InOrder(argparse.Action):
    """--var and --var-file: each kept in its own list and both, in command-line order, in `var_order`
    (the later one wins, as in Terraform)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), values])
        namespace.var_order = [*(getattr(namespace, "var_order", None) or []), (self.dest, values)]


def _vars(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", action=_InOrder, metavar="NAME=VALUE", help="set a variable")
    p.add_argument("--var-file", action=_InOrder, metavar="FILE", help="read variables from a .tfvars(.json) file")


_PATH_ARGUMENTS = ("var_file", "out", "planfile", "file")  # relative to -C, as Terraform's -chdir makes them


def _under_chdir(args: argparse.Namespace) -> None:
    """Every relative path on the command line is read relative to -C DIR, as after Terraform's -chdir."""
    def moved(value: str) -> str:
        return value if value == "-" or Path(value).is_absolute() else str(args.dir / value)

    for name in _PATH_ARGUMENTS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            setattr(args, name, moved(value))
        elif isinstance(value, list):
            setattr(args, name, [moved(v) for v in value])
    if getattr(args, "var_order", None):
        args.var_order = [(kind, moved(v) if kind == "var_file" else v) for kind, v in args.var_order]


def _lock(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock-timeout", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for the state lock")


def _validate_args(p: argparse.ArgumentParser, common: Parser) -> None:
    _vars(p)


def _plan_args(p: argparse.ArgumentParser, common: Parser) -> None:
    _vars(p)
    _lock(p)
    p.add_argument("--out", metavar="FILE", help="save the plan to apply it exactly later")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="Terraform-compatible JSON")
    fmt.add_argument("--markdown", action="store_true", help="a pull-request comment")
    p.add_argument("--target", action="append", metavar="ADDR", help="limit the plan to ADDR and its dependencies")
    p.add_argument("--refresh", action=argparse.BooleanOptionalAction, default=True,
                   help="refresh recorded state from the providers first (default: on)")
    p.add_argument("--destroy", action="store_true", help="plan to destroy everything in state")
    p.add_argument("--refresh-only", action="store_true",
                   help="only show what changed outside reconciler (drift); propose no changes")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when the plan has changes")


def _apply_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("planfile", nargs="?", metavar="PLANFILE")
    _vars(p)
    _lock(p)
    p.add_argument("--auto-approve", action="store_true", help="do not ask for yes")
    p.add_argument("--parallelism", type=int, default=10, metavar="N", help="at most N steps at once (default 10)")
    p.add_argument("--target", action="append", metavar="ADDR")
    p.add_argument("--refresh", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--destroy", action="store_true", help="destroy everything in state")


def _show_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("planfile", nargs="?", metavar="PLANFILE")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--markdown", action="store_true")


def _graph_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("planfile", nargs="?", metavar="PLANFILE")
    p.add_argument("--format", choices=("dot", "mermaid"), default="dot")
    _vars(p)


def _output_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--json", action="store_true")


def _state_args(p: argparse.ArgumentParser, common: Parser) -> None:
    ssub = p.add_subparsers(dest="state_cmd", metavar="SUBCOMMAND", parser_class=Parser)
    ssub.required = True
    ssub.add_parser("list", parents=[common], help="addresses in state")
    sp = ssub.add_parser("show", parents=[common], help="one resource as recorded")
    sp.add_argument("address", metavar="ADDR")
    sp = ssub.add_parser("rm", parents=[common], help="forget resources (the real objects stay)")
    sp.add_argument("address", nargs="+", metavar="ADDR")
    _lock(sp)
    ssub.add_parser("pull", parents=[common], help="print the state document")
    sp = ssub.add_parser("push", parents=[common], help="replace the state with FILE (- for stdin)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--force", action="store_true", help="allow another lineage or an older serial")
    _lock(sp)


def _cost_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("planfile", nargs="?", metavar="PLANFILE")
    p.add_argument("--refresh", action=argparse.BooleanOptionalAction, default=False)
    _vars(p)


def _import_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("address", metavar="ADDR")
    p.add_argument("id", metavar="ID")
    _vars(p)
    _lock(p)


def _machines_args(p: argparse.ArgumentParser, common: Parser) -> None:
    msub = p.add_subparsers(dest="machines_cmd", metavar="SUBCOMMAND", parser_class=Parser)
    msub.required = True
    mp = msub.add_parser("list", parents=[common], help="the machines, their hosts and what is deployed")
    _vars(mp)
    mp = msub.add_parser("install", parents=[common], help="install NixOS on one machine")
    mp.add_argument("name", metavar="NAME")
    mp.add_argument("--target-host", metavar="HOST", help="install to this host instead of target_host")
    mp.add_argument("--parallelism", type=int, default=10)
    _vars(mp)
    _lock(mp)
    mp = msub.add_parser("update", parents=[common], help="update NixOS on machines (default: all but explicit)")
    mp.add_argument("names", nargs="*", metavar="NAME")
    mp.add_argument("--dry-run", action="store_true", help="show what would be updated")
    mp.add_argument("--parallelism", type=int, default=10)
    _vars(mp)
    _lock(mp)
    msub.add_parser("known-hosts", parents=[common], help="pinned host keys in known_hosts format")


def _vars_args(p: argparse.ArgumentParser, common: Parser) -> None:
    vsub = p.add_subparsers(dest="vars_cmd", metavar="SUBCOMMAND", parser_class=Parser)
    vsub.required = True
    vp = vsub.add_parser("generate", parents=[common], help="generate missing vars")
    vp.add_argument("machines", nargs="*", metavar="MACHINE")
    vp.add_argument("--regenerate", action="store_true", help="make new values even where they exist")
    _vars(vp)
    vp = vsub.add_parser("list", parents=[common], help="list vars")
    vp.add_argument("machine", nargs="?", metavar="MACHINE")
    vp = vsub.add_parser("get", parents=[common], help="print one var (secrets decrypted)")
    vp.add_argument("machine", metavar="MACHINE")
    vp.add_argument("ref", metavar="GENERATOR/FILE")
    vp = vsub.add_parser("set", parents=[common], help="set one var from standard input")
    vp.add_argument("machine", metavar="MACHINE")
    vp.add_argument("ref", metavar="GENERATOR/FILE")


def _sandbox_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("sandbox_cmd", choices=("up", "down", "status"), metavar="up|down|status")
    p.add_argument("--speed", type=float, default=10.0, metavar="N",
                   help="emulated seconds per real second for the APIs' actions and operations (default 10)")


def _force_unlock_args(p: argparse.ArgumentParser, common: Parser) -> None:
    p.add_argument("lock_id", metavar="LOCK_ID")


def _providers_args(p: argparse.ArgumentParser, common: Parser) -> None:
    from reconciler.cli import catalog_cmd

    catalog_cmd.add_arguments(p, common)


Arguments = Callable[[argparse.ArgumentParser, Parser], None]
# command -> (help, its arguments), in the order --help lists them
_SUBCOMMANDS: dict[str, tuple[str, Arguments]] = {
    "validate": ("parse, evaluate and schema-check the configuration (no network)", _validate_args),
    "plan": ("diff the configuration against the refreshed state and print the plan", _plan_args),
    "apply": ("carry out a plan (a saved PLANFILE, or plan now and ask)", _apply_args),
    "show": ("render a saved plan, or the current state", _show_args),
    "graph": ("print the action graph", _graph_args),
    "output": ("outputs of the last apply", _output_args),
    "state": ("inspect and repair state", _state_args),
    "cost": ("monthly cost of the recorded fleet and of the planned one", _cost_args),
    "import": ("adopt an existing server/instance into state", _import_args),
    "machines": ("clan-style shortcuts over the NixOS machines", _machines_args),
    "vars": ("per-machine generated values and secrets", _vars_args),
    "sandbox": ("local emulators of the Hetzner Cloud and Compute Engine APIs", _sandbox_args),
    "force-unlock": ("release a stale state lock", _force_unlock_args),
    "providers": ("the providers' own data (catalogues)", _providers_args),
}


def _chosen(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that is not an option or the value of -C), if it is one."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("-C", "--chdir"):
            skip = True
        elif word == "--":
            return None
        elif not word.startswith("-"):
            return word if word in _SUBCOMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments it will parse, only the chosen command's own parser is built (all of
    them for --help, a mistyped command or none)."""
    common = _common()
    parser = Parser(prog="reconciler", parents=[common],
                    description="Declarative reconciler for NixOS fleets on Hetzner Cloud and GCE.")
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    chosen = _chosen(argv) if argv is not None else None
    for name, (help_, arguments) in _SUBCOMMANDS.items():
        if chosen is None or name == chosen:
            arguments(sub.add_parser(name, parents=[common], help=help_, description=help_), common)
    return parser


# command -> "module:function", imported only when that command runs (each command pays only for its own imports)
COMMANDS = {
    "validate": "reconciler.cli.commands:cmd_validate", "plan": "reconciler.cli.commands:cmd_plan",
    "apply": "reconciler.cli.commands:cmd_apply", "show": "reconciler.cli.commands:cmd_show",
    "graph": "reconciler.cli.commands:cmd_graph", "output": "reconciler.cli.state_cmds:cmd_output",
    "state": "reconciler.cli.state_cmds:cmd_state", "force-unlock": "reconciler.cli.state_cmds:cmd_force_unlock",
    "machines": "reconciler.cli.machines:cmd_machines", "vars": "reconciler.cli.vars_cmds:cmd_vars",
    "cost": "reconciler.cli.extra_cmds:cmd_cost", "import": "reconciler.cli.extra_cmds:cmd_import",
    "sandbox": "reconciler.cli.sandbox:cmd_sandbox", "providers": "reconciler.cli.catalog_cmd:cmd_providers",
}


def _print_traceback() -> None:
    import traceback

    traceback.print_exc()


_held_gc: list[bool] = []  # run() holds the collector until the command starts


def _command(name: str) -> Command:
    module, _, attr = COMMANDS[name].partition(":")
    command: Command = getattr(importlib.import_module(module), attr)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Called with `argv` (in-process, e.g. tests) the Ctrl-C handler is restored after."""
    from reconciler.cli import interrupts

    previous = interrupts.install()
    try:
        return _main(argv)
    finally:
        if argv is not None:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
            teardown.release()


def run() -> NoReturn:
    """The process entry (`python -m reconciler`, the `reconciler` script): run the command, then end the
    process (reconciler/cli/teardown.py: a completed command's objects are not freed one by one).

    The cyclic garbage collector waits until the command starts: what is made before (the modules the
    command imports, its arguments) lives until the process ends, and collecting among it cost `validate`
    32 collections and 7.5 ms. It is then frozen (never scanned again) and collection resumes."""
    gc.disable()
    _held_gc.append(True)
    teardown.end(main())


def _main(argv: Sequence[str] | None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(words).parse_args(words)
    args.dir = getattr(args, "dir", Path("."))
    debug = getattr(args, "debug", False)
    out = Out(color=not getattr(args, "no_color", False))
    try:
        if not args.dir.is_dir():
            raise ReconcilerError(f"-C {args.dir}: no such directory")
        _under_chdir(args)
        if (args.dir / ".reconciler" / "tmp").is_dir():  # plaintext a killed run left behind goes first
            from reconciler.vars.private_tmp import wipe_stale

            wipe_stale(args.dir)
        command = _command(args.command)
        if _held_gc:
            _held_gc.clear()
            gc.freeze()
            gc.enable()
        return command(args, out)
    except ReconcilerError as e:
        if debug:
            _print_traceback()
        for line in e.lines():
            out.error(line)
        return 1
    except KeyboardInterrupt:
        out.error("interrupted")
        return 1
    except BrokenPipeError:
        return 1
    except RecursionError:  # input nested past what a parser or the evaluator can follow; no file to name
        if debug:
            _print_traceback()
        out.error("the input nests too deeply to follow (a value, an expression or the state)")
        return 1
    except Exception as e:  # a bug: still one line, unless --debug
        if debug:
            _print_traceback()
        else:
            out.error(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback)")
        return 1
    except BaseException as e:  # asyncio's CancelledError: Ctrl-C while an event loop ran. Only commands that
        asyncio = sys.modules.get("asyncio")  # run a loop import asyncio, so it is looked up, not imported here
        if asyncio is None or not isinstance(e, asyncio.CancelledError):
            raise
        out.error("interrupted")
        return 1


if __name__ == "__main__":
    run()
