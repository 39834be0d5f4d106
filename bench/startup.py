"""Start-up: `validate` of a small configuration against a bare interpreter (goal: at most 10 times
`python -c pass`), what each command imports, and what the Compute Engine SDK costs imported whole against
only the services the provider uses.

`validate` is timed twice: warm, the files unchanged since the last run (their parsed trees are read back
from the parse cache, reconciler/config/parse_cache.py, and their schema checks are known to pass,
reconciler/config/schema_verdicts.py, so neither the HCL parser nor jsonschema is loaded), and cold, the
cache off (`RECONCILER_CACHE_DIR=off`), as on a first run.

Every figure is the median over `--runs` fresh processes of the process's own CPU time (user + sys, from
the operating system's accounting of the finished child) and of its wall time. The package is byte-compiled
first, as an installed wheel is (with PYTHONDONTWRITEBYTECODE set, every start would compile it anew).

    python bench/startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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

PROBE = """
import json, sys
from reconciler.cli.main import main
main(json.loads(sys.argv[1]))
heavy = %s
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(median cpu, median wall) of `runs` fresh processes."""
    cpus, walls = [], []
    for _ in range(runs + 1):  # the first is a warm-up (page cache), not counted
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        subprocess.run(argv, env=env, capture_output=True, check=True, timeout=120)
        walls.append(time.monotonic() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(cpus[1:]), statistics.median(walls[1:])


def imported(args: list[str], env: dict[str, str]) -> list[str]:
    """Which of HEAVY a command has imported by the time it ends."""
    probe = PROBE % json.dumps(list(HEAVY))
    proc = subprocess.run([sys.executable, "-c", probe, json.dumps(args)], env=env, capture_output=True, text=True,
                          timeout=120)
    found: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "reconciler", "providers"], cwd=ROOT, check=True,
                   capture_output=True)
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RECONCILER_CACHE_DIR": str(Path(tmp) / "cache")}
        (Path(tmp) / "main.tf").write_text(SMALL)
        bare_cpu, bare_wall = timed([sys.executable, "-c", "pass"], args.runs, env)
        command = [sys.executable, "-m", "reconciler", "validate", "-C", tmp]
        val_cpu, val_wall = timed(command, args.runs, env)
        cold_cpu, cold_wall = timed(command, args.runs, {**env, "RECONCILER_CACHE_DIR": "off"})
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
            print(f"  {' '.join(c for c in command if c != tmp):24s} {', '.join(imported(command, env)) or '-'}")
    print()
    print("Compute Engine SDK, imported alone (cpu, median):")
    full = "import google.cloud.compute_v1"
    ours = "from providers.google import sdk; sdk.load()"
    for label, code in (("google.cloud.compute_v1 (whole package)", full),
                        ("providers.google.sdk.load() (3 services)", ours)):
        cpu, _ = timed([sys.executable, "-c", code], args.runs, env)
        print(f"  {label:44s} {(cpu - bare_cpu) * 1000:6.0f} ms")
    for service in ("instances", "zone_operations", "accelerator_types"):
        code = (f"from providers.google import sdk; sdk._package(); import google.cloud.compute_v1.types.compute; "
                f"import time, resource; t = time.process_time(); "
                f"import google.cloud.compute_v1.services.{service}; print(time.process_time() - t)")
        costs = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                      check=True).stdout) for _ in range(args.runs)]
        print(f"  services.{service:35s} {statistics.median(costs) * 1000:6.0f} ms (after the shared types)")
    code = ("from providers.google import sdk; sdk._package(); import time; t = time.process_time(); "
            "import google.cloud.compute_v1.types.compute; print(time.process_time() - t)")
    costs = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                  check=True).stdout) for _ in range(args.runs)]
    print(f"  {'types.compute (the message types, shared)':44s} {statistics.median(costs) * 1000:6.0f} ms")
    return 0 if max(ratio_cpu, ratio_wall) <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
