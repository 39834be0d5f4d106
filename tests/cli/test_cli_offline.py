"""The CLI surface that needs no network: validate, plan (text/JSON/Markdown, --out, --detailed-exitcode),
show, graph, state commands and force-unlock, run as a user would (a subprocess of `python -m reconciler`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path | None = None, check_code: int | None = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "--no-color"], capture_output=True,
                          text=True, cwd=cwd, timeout=120)
    if check_code is not None:
        assert proc.returncode == check_code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    target = tmp_path / "fleet"
    shutil.copytree(ROOT / "examples" / "fleet", target)
    return target


def test_validate_and_plan_text(fleet: Path) -> None:
    assert "valid" in run("validate", "-C", str(fleet)).stdout
    out = run("plan", "--no-refresh", "-C", str(fleet)).stdout
    assert re.search(r'  # hcloud_server.web\["galena"\] will be created\n(  # .*\n)*'
                     r'  \+ resource "hcloud_server" "web" \{', out)
    assert "  # nixos_machine.cinnabar will get NixOS installed\n" in out
    assert "  # google_compute_instance.gpu is dormant\n" in out
    assert "\nPlan: 4 to add, 0 to change, 0 to destroy.\nNixOS: 3 to install, 0 to update.\n" in out
    assert "Monthly cost:" in out
    assert not (fleet / "reconciler.state.json").exists()


def test_hcl_and_terranix_json_give_identical_plan_json(fleet: Path) -> None:
    hcl = run("plan", "--no-refresh", "--json", "-C", str(fleet)).stdout
    js = run("plan", "--no-refresh", "--json", "-C", str(ROOT / "examples" / "fleet-json")).stdout
    assert len(hcl.splitlines()) == 1  # one JSON document on one line, as Terraform prints it
    doc, other = json.loads(hcl), json.loads(js)
    doc.pop("timestamp"), other.pop("timestamp")  # when each plan was made
    assert doc == other
    assert doc["format_version"] and doc["resource_changes"]
    actions = {c["address"]: c["change"]["actions"] for c in doc["resource_changes"]}
    assert actions["hcloud_ssh_key.admin"] == ["create"]
    assert {n["address"] for n in doc["nixos_changes"]} == {
        "nixos_machine.cinnabar", 'nixos_machine.web["electrum"]', 'nixos_machine.web["galena"]'}
    assert doc["variables"]["hcloud_token"]["value"] == "(sensitive value)"


def test_gpu_toggle_changes_plan_and_cost(fleet: Path) -> None:
    off = json.loads(run("plan", "--no-refresh", "--json", "-C", str(fleet)).stdout)
    on = json.loads(run("plan", "--no-refresh", "--json", "--var", "gpu_enabled=true", "-C", str(fleet)).stdout)
    assert on["summary"]["add"] == off["summary"]["add"] + 1
    assert on["summary"]["install"] == off["summary"]["install"] + 1


def test_markdown_comment(fleet: Path) -> None:
    md = run("plan", "--no-refresh", "--markdown", "-C", str(fleet)).stdout
    assert md.startswith("## reconciler plan")
    assert "```mermaid" in md and "flowchart TD" in md
    assert "<details>" in md and "| add | change | destroy | install | update |" in md


def test_detailed_exitcode(fleet: Path) -> None:
    run("plan", "--no-refresh", "--detailed-exitcode", "-C", str(fleet), check_code=2)


def test_saved_plan_show_graph(fleet: Path) -> None:
    planfile = fleet / "p.tfplan"
    run("plan", "--no-refresh", "--out", str(planfile), "-C", str(fleet))
    shown = run("show", str(planfile), "-C", str(fleet)).stdout
    assert "Plan: 4 to add" in shown
    as_json = json.loads(run("show", str(planfile), "--json", "-C", str(fleet)).stdout)
    # 9 instances; the 2 dormant ones never created are in no Terraform list, only under our "dormant"
    assert len(as_json["resource_changes"]) == 7 and len(as_json["dormant"]) == 2
    dot = run("graph", str(planfile), "-C", str(fleet)).stdout
    assert dot.startswith("digraph") and '"hcloud_ssh_key.admin" -> "hcloud_server.web[\\"galena\\"]"' in dot
    mermaid = run("graph", str(planfile), "--format", "mermaid", "-C", str(fleet)).stdout
    assert mermaid.startswith("flowchart TD")


def test_saved_plan_from_empty_state_is_refused_after_state_appears(fleet: Path) -> None:
    planfile = fleet / "p.tfplan"
    run("plan", "--no-refresh", "--out", str(planfile), "-C", str(fleet))
    state = {"version": 1, "serial": 3, "lineage": "other", "resources": {}, "outputs": {}}
    (fleet / "reconciler.state.json").write_text(json.dumps(state))
    proc = run("apply", str(planfile), "-C", str(fleet), check_code=1)
    assert "saved plan is stale" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads((fleet / "reconciler.state.json").read_text())["serial"] == 3


def test_not_a_plan_file(fleet: Path) -> None:
    (fleet / "junk").write_text("{}")
    proc = run("apply", str(fleet / "junk"), "-C", str(fleet), check_code=1)
    assert "not a saved reconciler plan" in proc.stderr


def test_apply_needs_approval_without_tty(fleet: Path) -> None:
    proc = run("apply", "--no-refresh", "-C", str(fleet), check_code=1)
    assert "--auto-approve" in proc.stderr


def test_state_commands_and_force_unlock(fleet: Path) -> None:
    doc = {"version": 1, "serial": 1, "lineage": "l1", "outputs": {"ip": {"value": "203.0.113.9", "sensitive": False}},
           "resources": {"hcloud_ssh_key.admin": {"type": "hcloud_ssh_key", "id": "5", "attributes": {"name": "admin"}},
                         "hcloud_server.old": {"type": "hcloud_server", "id": "6", "attributes": {"name": "old"}}}}
    (fleet / "reconciler.state.json").write_text(json.dumps(doc))
    assert run("state", "list", "-C", str(fleet)).stdout.split() == ["hcloud_server.old", "hcloud_ssh_key.admin"]
    shown = json.loads(run("state", "show", "hcloud_server.old", "-C", str(fleet)).stdout)
    assert shown["id"] == "6"
    assert run("output", "ip", "-C", str(fleet)).stdout.strip() == "203.0.113.9"
    assert json.loads(run("output", "--json", "-C", str(fleet)).stdout)["ip"]["value"] == "203.0.113.9"
    state_json = run("show", "--json", "-C", str(fleet)).stdout  # Terraform's state representation, one line
    assert len(state_json.splitlines()) == 1
    values = json.loads(state_json)["values"]
    assert values["outputs"]["ip"] == {"sensitive": False, "type": "string", "value": "203.0.113.9"}
    first = values["root_module"]["resources"][0]
    assert (first["address"], first["provider_name"], first["values"]) == \
        ("hcloud_server.old", "registry.terraform.io/hetznercloud/hcloud", {"name": "old"})
    run("state", "rm", "hcloud_server.old", "-C", str(fleet))
    pulled = json.loads(run("state", "pull", "-C", str(fleet)).stdout)
    assert list(pulled["resources"]) == ["hcloud_ssh_key.admin"] and pulled["serial"] == 2
    pulled["lineage"] = "another"
    (fleet / "push.json").write_text(json.dumps(pulled))
    proc = run("state", "push", str(fleet / "push.json"), "-C", str(fleet), check_code=1)
    assert "lineage" in proc.stderr
    run("state", "show", "nope.nope", "-C", str(fleet), check_code=1)
    lock = fleet / "reconciler.state.json.lock"
    lock.write_text(json.dumps({"id": "abc", "who": "x", "operation": "apply", "created": "now"}))
    proc = run("force-unlock", "abc", "-C", str(fleet))
    assert "Released" in proc.stdout and not lock.exists()


def test_error_lines_have_no_traceback_and_debug_shows_it(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "hcloud_server" "a" {\n  name = \n}\n')
    proc = run("validate", "-C", str(tmp_path), check_code=1)
    assert proc.stderr.startswith("error: main.tf:") and "Traceback" not in proc.stderr
    debug = run("validate", "--debug", "-C", str(tmp_path), check_code=1)
    assert "Traceback" in debug.stderr


def test_usage_errors_are_one_line_and_exit_1(fleet: Path) -> None:
    for args in (("plan", "--bogus"), ("frobnicate",), ("state",)):
        proc = run(*args, "-C", str(fleet), check_code=1)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: reconciler") and "--help" in lines[0], proc.stderr
