"""The policy tools our users run on Terraform plans, installed into throwaway virtual environments kept
under ~/.cache/reconciler-tools (RECONCILER_TOOLS_CACHE overrides), so that only the first run downloads
them. A tool that cannot be installed (no registry reachable) makes its tests skip, saying why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("RECONCILER_TOOLS_CACHE", Path.home() / ".cache" / "reconciler-tools"))
# one venv per tool: their pins disagree (checkov and terraform-compliance want different library versions)
TOOLS = {"checkov": ("checkov",), "tfc": ("terraform-compliance",), "rego": ("hobofan-regorus",)}


def venv(name: str) -> Path:
    """The venv holding tool `name` (made and filled on first use), or skip the test, loudly."""
    root = CACHE / name
    ready = root / ".installed"
    if ready.exists():
        return root
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True, capture_output=True,
                       timeout=300)
        subprocess.run([str(root / "bin" / "pip"), "install", "-q", *TOOLS[name]], check=True, capture_output=True,
                       text=True, timeout=1200)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        message = f"SKIPPED LOUDLY: could not install {' '.join(TOOLS[name])} into {root}: {str(detail)[-400:]}"
        print(message, file=sys.stderr)
        pytest.skip(message)
    ready.write_text("ok\n")
    return root
