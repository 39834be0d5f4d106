"""Run `validate` in a fresh interpreter, as a user's process starts, and report which modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_PROBE = """
import json, sys
from reconciler.cli.main import main
code = main(['validate', '-C', sys.argv[1]])
print(json.dumps([code, sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)]))
"""


def validate_imports(directory: Path, env: Mapping[str, str], modules: Sequence[str]) -> tuple[int, list[str]]:
    """(exit code, which of `modules` the process had imported when `validate` returned)."""
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(directory), json.dumps(list(modules))], env=dict(env),
                          capture_output=True, text=True, check=True)
    code, found = json.loads(proc.stdout.splitlines()[-1])
    return int(code), list(found)
