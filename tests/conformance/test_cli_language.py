"""The language where it meets the command line, as Terraform users expect it (run through the real CLI):
`count` from an untyped --var, --var and --var-file applied in command-line order, -C applying to every
relative path (as Terraform's -chdir), and outputs evaluated by validate and plan (a broken one is an error).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
variable "replicas" {
  default = 1
}
variable "name" {
  default = "default"
}
provider "hcloud" {
  token = "test-token"
}
resource "hcloud_ssh_key" "k" {
  count      = var.replicas
  name       = "${var.name}-${count.index}"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test"
}
output "name" {
  value = var.name
}
"""


def run(*args: str, cwd: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "--no-color"], capture_output=True,
                          text=True, cwd=cwd, timeout=120)
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    d = tmp_path / "conf"
    d.mkdir()
    (d / "main.tf").write_text(CONFIG)
    (d / "from-file.tfvars").write_text('name = "file"\n')
    return d


def plan_json(conf: Path, *args: str) -> dict[str, object]:
    doc = json.loads(run("plan", "--no-refresh", "--json", *args, cwd=conf).stdout)
    assert isinstance(doc, dict)
    return doc


def names(doc: dict[str, object]) -> list[str]:
    changes = doc["resource_changes"]
    assert isinstance(changes, list)
    return sorted(c["change"]["after"]["name"] for c in changes)


def test_count_from_an_untyped_var_is_a_number(conf: Path) -> None:
    assert names(plan_json(conf, "--var", "replicas=2")) == ["default-0", "default-1"]


def test_count_from_a_numeric_string_literal(conf: Path) -> None:
    (conf / "main.tf").write_text(CONFIG.replace("count      = var.replicas", 'count      = "2"'))
    assert names(plan_json(conf)) == ["default-0", "default-1"]


def test_var_and_var_file_apply_in_command_line_order(conf: Path) -> None:
    assert names(plan_json(conf, "--var", "name=cli", "--var-file", "from-file.tfvars")) == ["file-0"]
    assert names(plan_json(conf, "--var-file", "from-file.tfvars", "--var", "name=cli")) == ["cli-0"]


def test_chdir_applies_to_every_relative_path(conf: Path) -> None:
    shell = conf.parent  # the shell's folder is not the configuration's
    out = run("-C", "conf", "plan", "--no-refresh", "--json", "--var-file", "from-file.tfvars", "--out",
              "saved.plan", cwd=shell).stdout
    assert names(json.loads(out)) == ["file-0"]
    assert (conf / "saved.plan").is_file() and not (shell / "saved.plan").exists()
    run("show", "-C", "conf", "saved.plan", cwd=shell)


def test_a_failing_output_fails_validate_and_plan(conf: Path) -> None:
    (conf / "outputs.tf").write_text('output "port" {\n  value = tonumber("eighty")\n}\n')
    for command in (["validate"], ["plan", "--no-refresh"]):
        err = run(*command, cwd=conf, code=1).stderr
        assert "outputs.tf:2" in err and "tonumber" in err, err
    assert not (conf / "reconciler.state.json").exists()


def test_an_output_of_values_known_after_apply_passes_validate(conf: Path) -> None:
    (conf / "outputs.tf").write_text('output "ids" {\n  value = hcloud_ssh_key.k[*].id\n}\n')
    run("validate", cwd=conf)


def test_outputs_are_recorded_by_an_apply_that_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "n" {\n  default = 2\n}\noutput "twice" {\n  value = var.n * 2\n}\n')
    run("apply", "--auto-approve", cwd=tmp_path)
    assert json.loads(run("output", "--json", cwd=tmp_path).stdout)["twice"]["value"] == 4
    run("apply", "--auto-approve", "--var", "n=5", cwd=tmp_path)
    assert json.loads(run("output", "twice", cwd=tmp_path).stdout) == 10


def test_a_set_variable_read_back_from_a_saved_plan_is_a_set_again() -> None:
    from reconciler.config.loader import load_sources
    from reconciler.config.valueops import SetValue
    from reconciler.config.variables import VarSources, resolve_variables, retyped

    config = load_sources(Path("."), {"main.tf": 'variable "names" {\n  type    = set(string)\n'
                                                 '  default = ["b", "a"]\n}\n'})
    values = resolve_variables(config.decls.variables, Path("."), VarSources(env={}))
    saved = json.loads(json.dumps(values))  # a plan file keeps them as JSON
    assert not isinstance(saved["names"], SetValue)
    again = retyped(config.decls.variables, saved)
    assert isinstance(again["names"], SetValue) and again["names"] == ["a", "b"]
