"""The desired toplevel of every machine in ONE `nix eval --json` call: the machines' flake references and
attributes go in as JSON on nix's standard input (never spliced into the expression, never in the environment
or the argument list, whose size the kernel limits: a 10,000-machine request is about a megabyte), each
distinct flake is fetched once with `builtins.getFlake`, and out come the store paths (and derivations, for
the build). `start` runs nix in the background (the planner starts the evaluation of the recorded machines
before it plans the clouds, so both proceed at once); `evaluate` waits for it. The request and the answers
go through unnamed temporary files, not pipes: nix then never waits for this process (busy planning, and
holding Python's GIL) to drain a 64 KiB pipe of a megabyte of answers, and no thread is needed."""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import CommandError
from reconciler.nixos.machine import FlakeRef
from reconciler.nixos.nixcmd import NixTool, Result, failure

EXPRESSION = """
let
  req = builtins.fromJSON (builtins.readFile "/dev/stdin");
  flakes = builtins.listToAttrs (map (ref: { name = ref; value = builtins.getFlake ref; }) req.flakes);
  toplevel = m: (flakes.${m.ref}).nixosConfigurations.${m.attr}.config.system.build.toplevel;
in builtins.mapAttrs (key: m: let t = toplevel m; in { out = t.outPath; drv = t.drvPath; }) req.machines
"""


@dataclass(frozen=True)
class Evaluated:
    toplevel: str
    drv: str


class EvalUnavailable(Exception):
    """nix is not installed here: toplevels stay unknown until apply."""


def nix_available(tool: NixTool) -> bool:
    return shutil.which(tool.nix, path=tool.environ().get("PATH")) is not None


class Evaluation:
    """One `nix eval` of `machines`, running from construction; `result()` waits for it. A process that exits
    before asking (an error elsewhere in the plan) stops it."""

    def __init__(self, tool: NixTool, machines: Mapping[str, FlakeRef]) -> None:
        self.machines = dict(machines)
        request = {
            "flakes": sorted({flake.ref for flake in self.machines.values()}),
            "machines": {key: {"ref": flake.ref, "attr": flake.attr} for key, flake in self.machines.items()},
        }
        self._argv = tool.argv("eval", "--json", "--impure", "--expr", EXPRESSION)
        # nix's answers; closed (and so gone: they have no name) once read, or when the process exits
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
        with tempfile.TemporaryFile() as stdin:
            stdin.write(json.dumps(request).encode())
            stdin.seek(0)
            self._proc = subprocess.Popen(self._argv, stdin=stdin, stdout=self._out, stderr=self._err,
                                          env=tool.environ())
        atexit.register(self._stop)

    def _read(self) -> tuple[str, str]:
        texts = []
        for f in (self._out, self._err):
            with f:
                f.seek(0)
                texts.append(f.read().decode("utf-8", errors="replace"))
        return texts[0], texts[1]

    def _stop(self) -> None:
        with contextlib.suppress(OSError):
            if self._proc.poll() is None:
                self._proc.kill()
        self._out.close()
        self._err.close()

    def result(self) -> dict[str, Evaluated]:
        """key -> evaluated toplevel; a CommandError naming the machines when nix failed."""
        self._proc.wait()
        atexit.unregister(self._stop)
        result = Result(tuple(self._argv), self._proc.returncode, *self._read())
        if not result.ok:
            names = ", ".join(sorted(self.machines))
            raise failure(f"evaluating the NixOS configurations of {names}", result)
        try:
            data = json.loads(result.stdout)
            return {key: Evaluated(str(v["out"]), str(v["drv"])) for key, v in data.items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"nix eval printed something unexpected: {exc}", argv=result.argv,
                               exit_code=result.exit_code, stderr=result.stdout[:500]) from None


def start(tool: NixTool, machines: Mapping[str, FlakeRef]) -> Evaluation:
    """Start evaluating `machines` (at least one) with one nix process; EvalUnavailable without nix."""
    if not nix_available(tool):
        raise EvalUnavailable(tool.nix)
    return Evaluation(tool, machines)


def evaluate(tool: NixTool, machines: Mapping[str, FlakeRef]) -> dict[str, Evaluated]:
    """key -> evaluated toplevel, for every machine, with one nix process."""
    if not machines:
        return {}
    return start(tool, machines).result()
