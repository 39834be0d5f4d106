"""Run N seeded fuzz cases (tests/fuzz/cases.py) through the CLI in-process and count how each ended.

Prints, per kind of problem, how many cases showed it (crash = "internal error", a traceback, a hang, an
error line naming no file, a line over 1,000 characters), and the clean ones. Goal: 0 problems.
Usage: python bench/fuzz_crashes.py [--cases 600] [--seed 0] [--show 5]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.setrecursionlimit(1000)

from tests.fuzz.cases import any_case, run_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=5, help="print this many problem lines")
    args = parser.parse_args()
    kinds: collections.Counter[str] = collections.Counter()
    codes: collections.Counter[int | None] = collections.Counter()
    shown = 0
    started = time.monotonic()
    for n in range(args.cases):
        case = any_case(args.seed * 1_000_003 + n)
        d = Path(tempfile.mkdtemp(prefix="fuzz-"))
        try:
            outcome = run_case(case, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        codes[outcome.code] += 1
        for p in sorted({p.split(":")[0] for p in outcome.problems}):
            kinds[p] += 1
        if outcome.problems:
            kinds["cases with a problem"] += 1
            if shown < args.show:
                shown += 1
                print(f"case {n} ({' '.join(case.args)[:80]}): {outcome.problems[0]}")
    wall = time.monotonic() - started
    print(f"cases: {args.cases} in {wall:.1f} s ({wall / args.cases * 1000:.0f} ms each)")
    print("exit codes: " + ", ".join(f"{c}: {k}" for c, k in sorted(codes.items(), key=str)))
    print("problems: " + (", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())) or "none"))
    print(f"goal: 0 cases with a problem; got {kinds['cases with a problem']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
