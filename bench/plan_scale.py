"""Time `reconciler plan --no-refresh` on generated terranix-style fleets of 1,000 and 10,000 machines.

Each machine is an `hcloud_server` plus a `nixos_machine` on it, in one `config.tf.json`, planned from empty
state. Prints wall time and peak RSS of the whole process (from wait4's rusage) for each size, and the
ratios. Goal: 10,000 machines in under 3 s and 400 MB, t(10k)/t(1k) under 12.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def fleet(n: int) -> dict[str, object]:
    servers = {}
    machines = {}
    for i in range(n):
        name = f"m{i:05d}"
        servers[name] = {"name": name, "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1",
                         "labels": {"fleet": "bench", "rack": f"r{i % 40}"}, "ssh_keys": ["admin"]}
        machines[name] = {"target_host": f"${{hcloud_server.{name}.ipv4_address}}", "flake": f".#{name}",
                          "tags": ["all", f"rack-r{i % 40}"]}
    return {"provider": {"hcloud": {"token": "bench"}},
            "resource": {"hcloud_server": servers, "nixos_machine": machines}}


def measure(n: int, runs: int) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp(prefix=f"plan-scale-{n}-"))
    try:
        (tmp / "config.tf.json").write_text(json.dumps(fleet(n)))
        walls, peaks = [], []
        for _ in range(runs):
            cmd = [sys.executable, "-m", "reconciler", "plan", "--no-refresh", "--no-color", "-C", str(tmp)]
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - start)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"plan of {n} machines failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            peaks.append(usage.ru_maxrss / 1024)
        return statistics.median(walls), max(peaks)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    results = {}
    print(f"{'machines':>9} {'wall s':>8} {'peak MB':>8}")
    for n in args.sizes:
        wall, peak = measure(n, args.runs)
        results[n] = (wall, peak)
        print(f"{n:>9} {wall:>8.2f} {peak:>8.1f}")
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        print(f"t({large})/t({small}) = {results[large][0] / results[small][0]:.2f}   "
              f"rss({large})/rss({small}) = {results[large][1] / results[small][1]:.2f}")
        ok = results[large][0] < 3.0 and results[large][1] < 400 and results[large][0] / results[small][0] < 12
        print(f"goal (10k < 3 s, < 400 MB, ratio < 12): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
