"""The GPU node toggled off and on again through the real CLI against the Compute Engine emulator: the
reconciler's own time for the two applies, beyond the emulated cloud latency (goal: at most 5 s together).

The emulator runs in a process of its own at `--time-scale` real seconds per emulated second (an insert is
12 emulated seconds, a delete 8). Each `apply --auto-approve --var gpu=...` is timed as a whole process (start-up,
SDK import, refresh, plan, apply); its own time is its wall time minus the emulated latency on its critical
path (one delete, then one insert). CPU time is printed beside it. `--runs` repeats the off/on pair and
prints the median.

    python bench/toggle.py
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 5.0  # seconds, both applies together
INSERT, DELETE = 12.0, 8.0  # emulated seconds (providers/google/emulator_knobs.py DEFAULT_DURATIONS)

CONFIG = """
provider "google" {{
  project  = "bench"
  zone     = "europe-west4-a"
  endpoint = "{endpoint}"
}}

variable "gpu" {{
  type    = bool
  default = true
}}

resource "google_compute_instance" "gpu" {{
  enabled      = var.gpu
  name         = "scheelite"
  machine_type = "n1-standard-8"
  zones        = ["europe-west4-a", "europe-west4-b"]
  labels       = {{ fleet = "bench", gpu = "t4" }}

  boot_disk {{
    initialize_params {{
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
      size  = 100
    }}
  }}

  network_interface {{
    network = "default"
    access_config {{}}
  }}

  guest_accelerator {{
    type  = "nvidia-tesla-t4"
    count = 1
  }}

  scheduling {{
    on_host_maintenance = "TERMINATE"
    automatic_restart   = true
  }}
}}

resource "google_compute_instance" "cpu" {{
  name         = "cinnabar"
  machine_type = "e2-standard-4"
  labels       = {{ fleet = "bench" }}

  boot_disk {{
    initialize_params {{
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
    }}
  }}

  network_interface {{
    network = "default"
  }}
}}
"""


def apply(directory: Path, gpu: bool) -> tuple[float, float]:
    """(wall, cpu) of one `apply` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    env["PYTHONPATH"] = str(ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "reconciler", "apply", "-C", str(directory), "--auto-approve",
                           "--no-color", "--var", f"gpu={'true' if gpu else 'false'}"],
                          env=env, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"apply gpu={gpu} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=0.05, help="real seconds per emulated second")
    parser.add_argument("--runs", type=int, default=3, help="off/on pairs to time")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "reconciler", "providers"], cwd=ROOT, check=True,
                   capture_output=True)  # as an installed package would be: compiled once, not at each start
    emu = subprocess.Popen([sys.executable, "-m", "providers.google.emulator", "--time-scale", str(args.time_scale)],
                           cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert emu.stdout is not None
        found = re.search(r'endpoint = "([^"]+)"', emu.stdout.readline())
        if found is None:
            raise SystemExit("the emulator did not say its endpoint")
        with tempfile.TemporaryDirectory(prefix="toggle-bench-") as tmp:
            directory = Path(tmp)
            (directory / "main.tf").write_text(CONFIG.format(endpoint=found.group(1)))
            apply(directory, True)  # the fleet with its GPU node, as it runs before a toggle
            own: list[float] = []
            cpus: list[float] = []
            for run in range(args.runs):
                off_wall, off_cpu = apply(directory, False)
                on_wall, on_cpu = apply(directory, True)
                off = off_wall - DELETE * args.time_scale
                on = on_wall - INSERT * args.time_scale
                own.append(off + on)
                cpus.append(off_cpu + on_cpu)
                print(f"run {run + 1}: off {off_wall:.2f} s wall - {DELETE * args.time_scale:.2f} s emulated = "
                      f"{off:.2f} s own (cpu {off_cpu:.2f} s); on {on_wall:.2f} s - {INSERT * args.time_scale:.2f} s "
                      f"= {on:.2f} s own (cpu {on_cpu:.2f} s)")
            median = statistics.median(own)
            print(f"toggle overhead (off + on, own time beyond emulated latency), median of {args.runs}: "
                  f"{median:.2f} s, cpu {statistics.median(cpus):.2f} s; goal <= {GOAL:.1f} s  "
                  f"{'met' if median <= GOAL else 'NOT met'}")
            return 0 if median <= GOAL else 1
    finally:
        emu.terminate()
        emu.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
