"""The desired toplevel of every machine in ONE `nix eval --json` call: the machines' flake references and
attributes go in as JSON on nix's standard input (never spliced into the expression, never in the environment
or the argument list, whose size the kernel limits: a 10,000-machine request is about a megabyte), each
distinct flake is fetched once with `builtins.getFlake`, and out come the store paths (and derivations, for
the build)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import CommandError
from reconciler.nixos.machine import FlakeRef
from reconciler.nixos.nixcmd import NixTool, failure

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


def evaluate(tool: NixTool, machines: Mapping[str, FlakeRef]) -> dict[str, Evaluated]:
    """key -> evaluated toplevel, for every machine, with one nix process."""
    if not machines:
        return {}
    if not nix_available(tool):
        raise EvalUnavailable(tool.nix)
    request = {
        "flakes": sorted({flake.ref for flake in machines.values()}),
        "machines": {key: {"ref": flake.ref, "attr": flake.attr} for key, flake in machines.items()},
    }
    result = tool.run_sync(["eval", "--json", "--impure", "--expr", EXPRESSION], stdin=json.dumps(request))
    if not result.ok:
        names = ", ".join(sorted(machines))
        raise failure(f"evaluating the NixOS configurations of {names}", result)
    try:
        data = json.loads(result.stdout)
        return {key: Evaluated(str(v["out"]), str(v["drv"])) for key, v in data.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"nix eval printed something unexpected: {exc}", argv=result.argv,
                           exit_code=result.exit_code, stderr=result.stdout[:500]) from None
