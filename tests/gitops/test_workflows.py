"""The GitHub Actions workflows of examples/github-actions cannot rot: each validates against GitHub's workflow
schema (check-jsonschema's vendored `github-workflows`), and every reconciler command line in them lives in
an examples/ci script that the local loop test (test_loop.py) runs, never inline in the YAML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "examples" / "github-actions").glob("*.yml"))
LOOP_TEST = (Path(__file__).parent / "test_loop.py").read_text()


def test_there_is_a_workflow_per_step() -> None:
    assert {p.name for p in WORKFLOWS} == {"reconciler-plan.yml", "reconciler-apply.yml", "reconciler-drift.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(workflow: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(workflow)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_reconciler_runs_only_through_the_tested_scripts(workflow: Path) -> None:
    text = workflow.read_text()
    inline = [line.strip() for line in text.splitlines()
              if re.search(r"(^|[\s;&|(])reconciler\s+(plan|apply|show|validate|state|import)\b", line)
              and not re.match(r"\s*(#|(- )?name:)", line)]
    assert inline == [], f"{workflow.name} runs reconciler inline; put it in an examples/ci script: {inline}"
    scripts = set(re.findall(r"examples/ci/(\w+)\.sh", text))
    assert scripts, f"{workflow.name} runs no examples/ci script"
    for script in scripts:
        assert (ROOT / "examples" / "ci" / f"{script}.sh").is_file()
        assert f'loop.step("{script}"' in LOOP_TEST or f'loop.start("{script}"' in LOOP_TEST, (
            f"examples/ci/{script}.sh is used by {workflow.name} but not run by the loop test")


def test_secrets_are_never_echoed() -> None:
    for workflow in WORKFLOWS:
        for line in workflow.read_text().splitlines():
            if "secrets." in line:
                assert re.match(r"\s+[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}$", line), (
                    f"{workflow.name}: a secret may only be handed to a step as an environment variable: {line}")
