"""Run a command of the CLI in a fresh interpreter, as a user's process starts, and report which modules it had
imported when the command returned (tests of start-up, and bench/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_PROBE = """
import json, sys
from reconciler.cli.main import main
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as e:  # --version and --help exit from argparse
    code = e.code or 0
print(json.dumps([code, sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)]))
"""


def command_imports(args: Sequence[str], env: Mapping[str, str], modules: Sequence[str],
                    python: str = sys.executable) -> tuple[int, list[str]]:
    """(exit code, which of `modules` the process had imported when the command `args` returned)."""
    proc = subprocess.run([python, "-c", _PROBE, json.dumps(list(args)), json.dumps(list(modules))], env=dict(env),
                          capture_output=True, text=True, check=True, timeout=120)
    code, found = json.loads(proc.stdout.splitlines()[-1])
    return int(code), list(found)


def validate_imports(directory: Path, env: Mapping[str, str], modules: Sequence[str]) -> tuple[int, list[str]]:
    """`command_imports` of `validate -C directory`."""
    return command_imports(["validate", "-C", str(directory)], env, modules)
