"""Start-up: `validate` of a small configuration against a bare interpreter (goal: at most 10 times
`python -c pass`), what each command imports, and what the Compute Engine SDK costs imported whole against
only the services the provider uses.

`validate` is timed twice: warm, the files unchanged since the last run (their parsed trees are read back
from the parse cache, reconciler/config/parse_cache.py, and their schema checks are known to pass,
reconciler/config/schema_verdicts.py, so neither the HCL parser nor jsonschema is loaded), and cold, the
cache off (`RECONCILER_CACHE_DIR=off`), as on a first run.

Both sides run the same clean interpreter: a throw-away venv of this Python with the project and its
dependencies on PYTHONPATH, as after a plain `pip install`. The project's own venv may hold an editable
install, whose import hook runs at every start (pathlib, urllib.parse: about 11 ms) and would make the bare
interpreter look slower and the ratio better than a user's.

Every figure is the median over `--runs` fresh processes of the process's own CPU time (user + sys, from
the operating system's accounting of the finished child) and of its wall time. The package is byte-compiled
first, as an installed wheel is (with PYTHONDONTWRITEBYTECODE set, every start would compile it anew).

    python bench/startup.py
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.startup_probe import command_imports  # noqa: E402

GOAL = 10.0

SMALL = """
variable "size" {
  default = "cx23"
}

resource "hcloud_server" "web" {
  name        = "web"
  server_type = var.size
  image       = "ubuntu-24.04"
}
"""

HEAVY = ("hcl2", "lark", "jsonschema", "networkx", "asyncio", "asyncssh", "rich", "hcloud", "requests",
         "google.cloud.compute_v1", "psycopg", "pyrage", "reconciler.apply.runner", "reconciler.nixos")



def clean_python(where: Path) -> tuple[str, str]:
    """A venv of this Python with nothing installed, and the PYTHONPATH that reaches the project and what
    this interpreter has installed (entries on PYTHONPATH run no .pth file, so no editable-install hook)."""
    venv.create(where, with_pip=False, symlinks=True)
    python = str(where / "bin" / "python")
    return python, os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]])


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(cpu, wall) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(argv, env=env, capture_output=True, check=True, timeout=120)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def timed_together(commands: list[tuple[list[str], dict[str, str]]], runs: int) -> list[tuple[float, float]]:
    """(median cpu, median wall) of each command over `runs` rounds. The commands take turns within a round,
    so a change in the machine's speed (a shared VM's can move by half within the hour) falls on all of them
    alike instead of on whichever ran during it."""
    samples: list[list[tuple[float, float]]] = [[] for _ in commands]
    for round_ in range(runs + 1):  # the first round is a warm-up (page cache), not counted
        for i, (argv, env) in enumerate(commands):
            sample = run_once(argv, env)
            if round_:
                samples[i].append(sample)
    return [(statistics.median(c for c, _ in s), statistics.median(w for _, w in s)) for s in samples]


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(median cpu, median wall) of `runs` fresh processes."""
    return timed_together([(argv, env)], runs)[0]


def import_cost(python: str, prelude: str, module: str, runs: int, env: dict[str, str]) -> float:
    """Median CPU seconds of importing `module` in a fresh process, after `prelude` has run."""
    code = f"{prelude}; import time; t = time.process_time(); import {module}; print(time.process_time() - t)"
    return statistics.median(float(subprocess.run([python, "-c", code], env=env, capture_output=True, text=True,
                                                  check=True).stdout) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "reconciler", "providers"], cwd=ROOT, check=True,
                   capture_output=True)
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        python, path = clean_python(Path(tmp) / "venv")
        env = {**os.environ, "PYTHONPATH": path, "RECONCILER_CACHE_DIR": str(Path(tmp) / "cache")}
        (Path(tmp) / "main.tf").write_text(SMALL)
        command = [python, "-m", "reconciler", "validate", "-C", tmp]
        (bare_cpu, bare_wall), (val_cpu, val_wall), (cold_cpu, cold_wall) = timed_together(
            [([python, "-c", "pass"], env), (command, env), (command, {**env, "RECONCILER_CACHE_DIR": "off"})],
            args.runs)
        print(f"bare interpreter (python -c pass):  cpu {bare_cpu * 1000:6.0f} ms   wall {bare_wall * 1000:6.0f} ms")
        print(f"validate of a small config, warm:   cpu {val_cpu * 1000:6.0f} ms   wall {val_wall * 1000:6.0f} ms")
        print(f"validate, cold (parse cache off):   cpu {cold_cpu * 1000:6.0f} ms   wall {cold_wall * 1000:6.0f} ms")
        ratio_cpu, ratio_wall = val_cpu / bare_cpu, val_wall / bare_wall
        print(f"validate / bare, warm: cpu {ratio_cpu:.1f}x, wall {ratio_wall:.1f}x; goal <= {GOAL:.0f}x  "
              f"{'met' if max(ratio_cpu, ratio_wall) <= GOAL else 'NOT met'}")
        print(f"validate / bare, cold: cpu {cold_cpu / bare_cpu:.1f}x, wall {cold_wall / bare_wall:.1f}x "
              f"(python-hcl2, lark and jsonschema imported, the LALR tables loaded)")
        print()
        print("what each command has imported of the heavy modules by its end:")
        for command in (["validate", "-C", tmp], ["plan", "--no-refresh", "-C", tmp], ["state", "list", "-C", tmp],
                        ["--version"]):
            _, found = command_imports(command, env, HEAVY, python)
            print(f"  {' '.join(c for c in command if c != tmp):24s} {', '.join(found) or '-'}")
        print()
        print("Compute Engine SDK, imported alone (cpu, median):")
        full = "import google.cloud.compute_v1"
        ours = "from providers.google import sdk; sdk.load()"
        for label, code in (("google.cloud.compute_v1 (whole package)", full),
                            ("providers.google.sdk.load() (3 services)", ours)):
            cpu, _ = timed([python, "-c", code], args.runs, env)
            print(f"  {label:44s} {(cpu - bare_cpu) * 1000:6.0f} ms")
        prelude = "from providers.google import sdk; sdk._package()"
        types = "google.cloud.compute_v1.types.compute"
        for service in ("instances", "zone_operations", "accelerator_types"):
            cost = import_cost(python, f"{prelude}; import {types}", f"google.cloud.compute_v1.services.{service}",
                               args.runs, env)
            print(f"  services.{service:35s} {cost * 1000:6.0f} ms (after the shared types)")
        cost = import_cost(python, prelude, types, args.runs, env)
        print(f"  {'types.compute (the message types, shared)':44s} {cost * 1000:6.0f} ms")
    return 0 if max(ratio_cpu, ratio_wall) <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
