"""Apply of N Hetzner servers through the real CLI against the emulator: wall / critical path, then a no-op apply.

The emulator runs in a process of its own on real time (`time_scale` 1) with `--create-seconds` per create
(and an instant start), so the critical path of N independent servers is one create: `--create-seconds`.
The CLI (`python -m reconciler apply --auto-approve`) runs as another process; its progress hooks are timed
from inside that process, so the walk (first step started -> last step finished) is measured without the
interpreter's start-up and the plan. Then the same apply again, with nothing to do: the requests it makes
(goal: at most ceil(N/50) + 1) and its CPU time (goal: under 1 s for 200).

Each size runs `--runs` times, each against a fresh emulator, and the ratio's goal (at most 1.10) is judged
on their median, as the other benches judge theirs: one run moves with the machine's speed at that moment.
Every run's ratio is printed. The no-op apply's goals hold in every run.

After the no-op apply, each run times the floor under the walk on this machine at that moment: the same N
creates sent through the provider's client alone (`HcloudApi.create_server`: the official hcloud client,
requests, urllib3), from as many threads as the apply has, to the same emulator, with nothing else in the
process. The walk cannot be shorter than one create plus that; what it takes beyond is the apply's own.

    python bench/apply_scale.py                    # 50 and 200 servers, 3 s creates, 3 runs of each
    python bench/apply_scale.py --servers 200 --parallelism 100
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL_RATIO = 1.10
GOAL_NOOP_CPU = 1.0  # seconds of the whole process's CPU, for 200 servers


def config(endpoint: str, n: int) -> str:
    return f"""
provider "hcloud" {{
  token    = "bench"
  endpoint = "{endpoint}"
}}

resource "hcloud_server" "s" {{
  count       = {n}
  name        = "s${{count.index}}"
  server_type = "cx23"
  image       = "ubuntu-24.04"
  location    = "fsn1"
}}
"""


def child(directory: str, parallelism: int, timings: str) -> int:
    """Runs inside the CLI's process: time every step through the progress hooks, then run `apply`."""
    from reconciler.cli import progress
    from reconciler.cli.main import main

    spans: dict[str, list[float]] = {}
    answered: dict[str, float] = {}  # when the create's POST was answered (its "waiting for" phase)
    cpu: list[float] = []  # this process's CPU time at each of those moments
    plain = progress.PlainProgress
    pre, post, phase = plain.pre_step, plain.post_step, plain.on_phase

    def timed_pre(self: Any, address: str, action: Any) -> None:
        spans[address] = [time.monotonic()]
        pre(self, address, action)

    def timed_phase(self: Any, address: str, text: str) -> None:
        if address not in answered:
            answered[address] = time.monotonic()
            cpu.append(time.process_time())
        phase(self, address, text)

    def timed_post(self: Any, address: str, action: Any, error: Any, seconds: float) -> None:
        spans[address].append(time.monotonic())
        post(self, address, action, error, seconds)

    progress.PlainProgress.pre_step = timed_pre  # type: ignore[method-assign]
    progress.PlainProgress.post_step = timed_post  # type: ignore[method-assign]
    progress.PlainProgress.on_phase = timed_phase  # type: ignore[method-assign,assignment]
    argv = ["apply", "-C", directory, "--auto-approve", "--no-color", "--parallelism", str(parallelism)]
    profile = os.environ.get("APPLY_BENCH_PROFILE")  # a file: where the first apply's cProfile goes
    if profile and not Path(profile).exists():
        import cProfile

        profiler = cProfile.Profile()
        code = profiler.runcall(main, argv)
        profiler.dump_stats(profile)
    else:
        code = main(argv)
    Path(timings).write_text(json.dumps({"spans": {a: [s[0], answered.get(a, s[0]), s[-1]] for a, s in spans.items()},
                                         "post_cpu": cpu[-1] - cpu[0] if cpu else 0.0}))
    return code


def control(endpoint: str, path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    base = endpoint.rsplit("/v1", 1)[0]
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def run_apply(directory: Path, parallelism: int) -> tuple[int, float, float, dict[str, Any]]:
    """(exit code, process wall, process CPU, step spans and the CPU between the first and last POST answer)."""
    timings = directory / "timings.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, __file__, "--child", str(directory), "--parallelism", str(parallelism),
                           "--timings", str(timings)], env=env, capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
    found = json.loads(timings.read_text()) if timings.exists() else {"spans": {}, "post_cpu": 0.0}
    return proc.returncode, wall, cpu, found


def client_floor(endpoint: str, n: int, parallelism: int) -> float:
    """Seconds for `n` creates through the provider's API client alone, from the apply's number of threads."""
    from concurrent.futures import ThreadPoolExecutor

    from hcloud_post_cost import server_body  # bench/, this script's directory

    from providers.hcloud.api import HcloudApi
    from providers.hcloud.settings import HcloudSettings
    from reconciler.apply.runner import MAX_THREADS

    api = HcloudApi(HcloudSettings("bench", endpoint))

    def create(i: int) -> object:
        return api.create_server("floor", server_body(f"floor{i}", {"bench": "floor"}))

    try:
        with ThreadPoolExecutor(max_workers=min(parallelism, MAX_THREADS) + 4) as threads:
            list(threads.map(create, range(-4, 0)))  # connections and imports warm, as after the apply's refresh
            started = time.monotonic()
            list(threads.map(create, range(n)))
            return time.monotonic() - started
    finally:
        api.close()


def cpu_of(pid: int) -> float:
    """CPU seconds (user + sys) a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(n: int, create_seconds: float, parallelism: int) -> tuple[float | None, float, bool]:
    """One apply of `n` servers, the no-op apply after it and the client's floor: (walk / critical path or
    None if the apply failed, (one create + the floor) / critical path, whether the no-op apply met its
    goals)."""
    knobs = {"durations": {"create_server": create_seconds, "start_server": 0.0}}
    emu = subprocess.Popen([sys.executable, "-m", "providers.hcloud.emulator", "--knobs", json.dumps(knobs)],
                           cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert emu.stdout is not None
        endpoint = json.loads(emu.stdout.readline())["endpoint"]
        with tempfile.TemporaryDirectory(prefix="apply-bench-") as tmp:
            directory = Path(tmp)
            (directory / "main.tf").write_text(config(endpoint, n))
            emu_before = cpu_of(emu.pid)
            code, wall, cpu, found = run_apply(directory, parallelism)
            spans: dict[str, list[float]] = found["spans"]
            emu_cpu = cpu_of(emu.pid) - emu_before
            requests = control(endpoint, "/_emulator/requests")["requests"]
            if code != 0 or len(spans) != n:
                print(f"apply of {n} servers FAILED (exit {code}, {len(spans)} steps timed)")
                return None, 0.0, False
            first = min(s[0] for s in spans.values())
            last = max(s[2] for s in spans.values())
            posted = sorted(s[1] - first for s in spans.values())
            lag = sorted(s[2] - s[1] - create_seconds for s in spans.values())
            walk = last - first
            steps = sorted(s[2] - s[0] for s in spans.values())
            critical = create_seconds  # independent servers: the longest chain is one create (start is instant)
            ratio = walk / critical
            print(f"apply of {n} servers, {create_seconds:g} s creates, --parallelism {parallelism}:")
            print(f"  walk (first step start -> last step end)  {walk:7.2f} s")
            print(f"  critical path (one create)                {critical:7.2f} s")
            print(f"  walk / critical path                      {ratio:7.3f}   (the goal is for the median of runs)")
            print(f"  step time min / median / max              {steps[0]:.2f} / {steps[len(steps) // 2]:.2f} / "
                  f"{steps[-1]:.2f} s")
            print(f"  POST answered after walk start, min / median / max  {posted[0]:.2f} / "
                  f"{posted[len(posted) // 2]:.2f} / {posted[-1]:.2f} s")
            print(f"  step end - (POST answer + create), min / median / max  {lag[0]:.2f} / "
                  f"{lag[len(lag) // 2]:.2f} / {lag[-1]:.2f} s")
            spread = posted[-1] - posted[0]
            print(f"  this process's CPU from the first to the last POST answer: {found['post_cpu']:.2f} s in "
                  f"{spread:.2f} s ({found['post_cpu'] / max(1, n - 1) * 1000:.1f} ms a POST)")
            print(f"  emulator process: cpu {emu_cpu:.2f} s; load average {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} cores")
            print(f"  whole process: wall {wall:.2f} s, cpu {cpu:.2f} s; {sum(requests.values())} requests "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(requests.items()))})")
            control(endpoint, "/_emulator/requests", "DELETE")
            code, wall, cpu, _ = run_apply(directory, parallelism)
            requests = control(endpoint, "/_emulator/requests")["requests"]
            total = sum(requests.values())
            goal = math.ceil(n / 50) + 1
            print(f"  no-op apply: {total} requests, goal <= {goal}  {'met' if total <= goal else 'NOT met'} "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(requests.items()))})")
            cpu_goal = GOAL_NOOP_CPU
            print(f"  no-op apply: cpu {cpu:.2f} s (wall {wall:.2f} s), goal < {cpu_goal:.2f} s (for 200)  "
                  f"{'met' if cpu < cpu_goal else 'NOT met'}")
            floor = client_floor(endpoint, n, parallelism)
            least = (critical + floor) / critical
            print(f"  floor: {n} creates through the provider's client alone, from the apply's threads: {floor:.2f} s; "
                  f"one create + that = {least:.3f} of the critical path; the walk's own beyond it: "
                  f"{walk - critical - floor:.2f} s")
            return ratio, least, code == 0 and total <= goal and cpu < cpu_goal
    finally:
        emu.terminate()
        emu.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, action="append", help="how many servers (repeatable; default 50, 200)")
    parser.add_argument("--create-seconds", type=float, default=3.0, help="emulated duration of a create")
    parser.add_argument("--parallelism", type=int, default=250, help="apply's --parallelism")
    parser.add_argument("--runs", type=int, default=3,
                        help="applies of each size, each against a fresh emulator; the goal is judged on the median")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--timings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.parallelism, args.timings)
    ok = True
    for n in args.servers or [50, 200]:
        ratios, floors = [], []
        for _ in range(args.runs):
            ratio, floor, noop_ok = bench(n, args.create_seconds, args.parallelism)
            ok = ok and noop_ok and ratio is not None
            if ratio is not None:
                ratios.append(ratio)
                floors.append(floor)
            print()
        if ratios:
            median = statistics.median(ratios)
            print(f"apply of {n} servers, walk / critical path in {len(ratios)} runs: "
                  f"{', '.join(f'{r:.3f}' for r in ratios)}; median {median:.3f}, goal <= {GOAL_RATIO:.2f}  "
                  f"{'met' if median <= GOAL_RATIO else 'NOT met'}")
            beyond = statistics.median([r - f for r, f in zip(ratios, floors, strict=True)])
            print(f"  the client's floor in the same runs: {', '.join(f'{r:.3f}' for r in floors)}; "
                  f"the walk beyond it, median {beyond:.3f} of the critical path")
            print()
            ok = ok and median <= GOAL_RATIO
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
