"""The CLI process ends without tearing down what a completed command built (reconciler/cli/teardown.py),
and still runs every exit handler and delivers all of its output first; a failed command ends the ordinary
way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reconciler.cache import CACHE_ENV
from reconciler.cli import teardown
from reconciler.cli.main import main

CONFIG = """
resource "hcloud_server" "web" {
  count       = 30
  name        = "web-${count.index}"
  server_type = "cx23"
  image       = "ubuntu-24.04"
}
"""


def _cli(d: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(d), "--no-color"],
                          env={**os.environ, CACHE_ENV: str(cache)}, capture_output=True, text=True, timeout=120)


def test_a_completed_plan_delivers_all_its_output_and_runs_the_exit_handlers(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    cache = tmp_path / "cache"
    proc = _cli(tmp_path, cache, "plan", "--no-refresh", "--json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)  # the whole document reached the pipe before the process ended
    assert len(plan["resource_changes"]) == 30
    assert any((cache / "verdicts").iterdir())  # the schema verdicts' exit handler ran (it saves them)


def test_detailed_exitcode_2_is_a_completed_command(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    proc = _cli(tmp_path, tmp_path / "cache", "plan", "--no-refresh", "--detailed-exitcode")
    assert proc.returncode == 2, proc.stderr
    assert "30 to add" in proc.stdout


def test_a_failed_command_still_says_why_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG.replace('"cx23"', "var.missing"))
    proc = _cli(tmp_path, tmp_path / "cache", "validate")
    assert proc.returncode == 1
    assert "main.tf" in proc.stderr and "missing" in proc.stderr and "Traceback" not in proc.stderr


def test_in_process_callers_get_what_was_kept_released(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    assert main(["plan", "--no-refresh", "-C", str(tmp_path), "--no-color"]) == 0
    assert teardown._kept == []


def test_the_collector_held_at_start_runs_again_once_the_command_starts(tmp_path: Path) -> None:
    """run() holds the garbage collector while the command's modules load; the command itself (an apply may
    run for an hour) has it back, and what was loaded is frozen rather than scanned again."""
    import gc

    from reconciler.cli import main as cli_main

    (tmp_path / "main.tf").write_text(CONFIG)
    seen: list[bool] = []
    original = cli_main._command

    def spy(name: str) -> cli_main.Command:
        command = original(name)

        def wrapped(args: object, out: object) -> int:
            seen.append(gc.isenabled())
            return command(args, out)  # type: ignore[arg-type]

        return wrapped

    gc.disable()
    cli_main._held_gc.append(True)
    try:
        cli_main._command = spy  # type: ignore[assignment]
        assert main(["validate", "-C", str(tmp_path)]) == 0
    finally:
        cli_main._command = original  # type: ignore[assignment]
        gc.unfreeze()
        gc.enable()
    assert seen == [True] and cli_main._held_gc == []
