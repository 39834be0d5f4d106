"""Our plan as the tools users already run on Terraform plans read it: checkov counts every resource of
the bundled GPU-on fleet's plan and runs its GCP checks on them, terraform-compliance accepts the file as
`plan --json` writes it and a feature fails on a changed server_type, a Rego policy (OPA's language) counts
NixOS installs and updates from `resource_changes`, and a CI wrapper's `^Plan: .* to destroy\\.$` matches
the text plan. The tools come from PyPI into cached venvs (see tools.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.outside.tools import venv

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"

FEATURE = """Feature: hcloud servers keep their type

  Scenario: every hcloud server is a cx23
    Given I have hcloud_server defined
    Then it must contain server_type
    And its value must be "cx23"
"""

REGO = """package fleet

import rego.v1

machine_changes contains rc if {
\tsome rc in input.resource_changes
\trc.type == "nixos_machine"
}

installs := count([rc | some rc in machine_changes; rc.change.actions == ["create"]]) + count([rc |
\tsome rc in machine_changes
\trc.change.actions == ["delete", "create"]
])

updates := count([rc | some rc in machine_changes; rc.change.actions == ["update"]])
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "--no-color"], capture_output=True, text=True,
                          cwd=cwd, timeout=300)
    assert proc.returncode in (0, 2), (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def fleet_copy(tmp: Path, server_type: str = "cx23") -> Path:
    target = tmp / "fleet"
    shutil.copytree(ROOT / "examples" / "fleet", target)
    main = target / "main.tf"
    main.write_text(main.read_text().replace('server_type = "cx23"', f'server_type = "{server_type}"'))
    return target


def gpu_plan(tmp: Path, server_type: str = "cx23") -> tuple[Path, dict[str, Any]]:
    """`plan --json` of the bundled fleet with its GPU node on, written to a file exactly as printed."""
    fleet = fleet_copy(tmp, server_type)
    out = cli("plan", "--no-refresh", "--json", "--var", "gpu_enabled=true", cwd=fleet).stdout
    path = tmp / "plan.json"
    path.write_text(out)
    return path, json.loads(out)


def test_checkov_counts_every_resource_and_runs_gcp_checks(tmp_path: Path) -> None:
    root = venv("checkov")
    path, plan = gpu_plan(tmp_path)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    proc = subprocess.run([str(root / "bin" / "checkov"), "-f", str(path), "--framework", "terraform_plan", "-o",
                           "json", "--quiet", "--skip-download"], capture_output=True, text=True, env=env,
                          timeout=900, cwd=tmp_path)
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    ours = plan["planned_values"]["root_module"]["resources"]
    assert len(ours) == 9  # 5 cloud resources and 4 machines, the GPU node and its machine included
    assert report["summary"]["resource_count"] == len(ours), report["summary"]
    results = report["results"]
    checked = {c["resource"] for c in results.get("failed_checks", []) + results.get("passed_checks", [])
               if c["check_id"].startswith("CKV_GCP_")}
    assert checked == {"google_compute_instance.cpu", "google_compute_instance.gpu"}
    # real findings on the example's instances (no shielded VM, serial port / OS login not set, ...)
    failed = {c["check_id"] for c in results.get("failed_checks", [])}
    assert {"CKV_GCP_32", "CKV_GCP_38", "CKV_GCP_39", "CKV_GCP_40"} <= failed


def run_compliance(root: Path, plan: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    features = tmp / "features"
    features.mkdir(exist_ok=True)
    (features / "server_type.feature").write_text(FEATURE)
    return subprocess.run([str(root / "bin" / "terraform-compliance"), "-p", str(plan), "-f", str(features),
                           "--no-ansi"], capture_output=True, text=True, timeout=600, cwd=tmp)


def test_terraform_compliance_accepts_the_plan_and_fails_on_a_changed_server_type(tmp_path: Path) -> None:
    root = venv("tfc")
    same, _ = gpu_plan(tmp_path / "same")
    ok = run_compliance(root, same, tmp_path / "same")
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-2000:]
    assert "1 passed" in ok.stdout and "not a valid" not in ok.stdout + ok.stderr
    changed, plan = gpu_plan(tmp_path / "changed", server_type="cx33")
    assert any(c["type"] == "hcloud_server" and c["change"]["after"]["server_type"] == "cx33"
               for c in plan["resource_changes"])
    bad = run_compliance(root, changed, tmp_path / "changed")
    assert bad.returncode != 0, bad.stdout[-3000:]
    assert "1 failed" in bad.stdout and "cx33" in bad.stdout + bad.stderr


def rego_counts(plan: dict[str, Any]) -> tuple[int, int]:
    """(installs, updates) as the Rego policy counts them; regorus evaluates it (OPA itself is on none of
    the registries this project reaches)."""
    root = venv("rego")
    script = ("import json, sys, hobofan_regorus as r\n"
              "e = r.Engine(); e.add_policy('fleet.rego', sys.argv[1]); e.set_input(json.load(sys.stdin))\n"
              "print(json.dumps([e.eval_query(q)['result'][0]['expressions'][0]['value']\n"
              "                  for q in ('data.fleet.installs', 'data.fleet.updates')]))\n")
    proc = subprocess.run([str(root / "bin" / "python"), "-c", script, REGO], input=json.dumps(plan),
                          capture_output=True, text=True, timeout=120, check=True)
    installs, updates = json.loads(proc.stdout)
    return int(installs), int(updates)


def test_rego_counts_installs_and_updates() -> None:
    # the GPU node turned on: its machine is installed, the 3 others update (their inventory.json entry changes)
    plan = json.loads((GOLDEN / "toggle_gpu_on" / "expected" / "plan.json").read_text())
    assert rego_counts(plan) == (plan["summary"]["install"], plan["summary"]["update"]) == (1, 3)
    # a changed image recreates the VMs: the machines on them are reinstalled (["delete","create"])
    plan = json.loads((GOLDEN / "replace_image_reinstalls" / "expected" / "plan.json").read_text())
    assert rego_counts(plan) == (plan["summary"]["install"], 0) == (2, 0)


def test_a_ci_wrappers_summary_regex_matches_the_text_plan(tmp_path: Path) -> None:
    fleet = fleet_copy(tmp_path)
    out = cli("plan", "--no-refresh", "--var", "gpu_enabled=true", cwd=fleet).stdout
    found = re.findall(r"^Plan: .* to destroy\.$", out, re.MULTILINE)
    assert found == ["Plan: 5 to add, 0 to change, 0 to destroy."], out[-1500:]
    assert "\nNixOS: 4 to install, 0 to update.\n" in out
