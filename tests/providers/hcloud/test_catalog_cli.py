"""Through the real CLI: the example fleets plan with no deprecation warning; a configuration creating `cx22`
is refused at plan with file, line and the successor; one keeping a recorded `cx22` server gets the dated
warning; `validate` names file and line for Hetzner's name and label rules; `providers catalog --refresh`
rewrites the dated table from an account (the emulator) and the provider reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from providers.hcloud import catalog as catalogs
from providers.hcloud.emulator import Emulator

ROOT = Path(__file__).resolve().parents[3]
SERVER = """\
provider "hcloud" {
  token = "offline"
}

resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx22"
  image       = "debian-12"
  location    = "fsn1"
}
"""


def cli(directory: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HCLOUD_", "TF_VAR_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "reconciler", *args, "-C", str(directory), "--no-color"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == code, f"{args} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def state_keeping(server_type: str) -> dict[str, object]:
    attrs: dict[str, object] = {
        "name": "web", "server_type": server_type, "image": "debian-12", "location": "fsn1", "id": "7",
             "ipv4_address": "203.0.113.7", "ipv6_address": "2001:db8::1", "status": "running", "labels": {},
             "ssh_keys": [], "user_data": None, "firewall_ids": [], "backups": False,
             "public_net": [{"ipv4_enabled": True, "ipv6_enabled": True}]}
    return {"version": 1, "serial": 3, "lineage": "00000000-0000-4000-8000-00000000c0de",
            "reconciler_version": "0.1.0",
            "resources": {"hcloud_server.web": {"type": "hcloud_server", "id": "7", "attributes": attrs,
                                                "private": {"architecture": "x86", "primary_disk_size": 40},
                                                "dependencies": []}}}


@pytest.mark.parametrize("example", ["fleet", "fleet-json"])
def test_the_example_fleets_plan_with_no_deprecation_warning(example: str) -> None:
    proc = cli(ROOT / "examples" / example, "plan", "--no-refresh")
    assert "Plan:" in proc.stdout
    assert "deprecated" not in proc.stdout + proc.stderr


def test_creating_cx22_is_refused_at_plan_with_file_line_and_successor(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(SERVER)
    cli(tmp_path, "validate")  # the catalogue is the provider's: validate stays offline and provider-free
    proc = cli(tmp_path, "plan", "--no-refresh", code=1)
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: main.tf:7: hcloud_server.web: server type cx22 is deprecated (announced "
                           "2025-10-16, no new servers after 2025-12-31)"), line
    assert line.endswith("(use cx23, its successor)"), line
    assert not (tmp_path / "reconciler.state.json").exists()


def test_keeping_a_cx22_server_gets_the_dated_warning(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(SERVER)
    (tmp_path / "reconciler.state.json").write_text(json.dumps(state_keeping("cx22")))
    proc = cli(tmp_path, "plan", "--no-refresh", "--detailed-exitcode")
    assert "No changes" in proc.stdout or "Plan: 0 to add, 0 to change, 0 to destroy" in proc.stdout
    assert ("Warning: hcloud_server.web: server type cx22 is deprecated (announced 2025-10-16, no new servers "
            "after 2025-12-31); the server keeps running") in proc.stdout
    as_json = json.loads(cli(tmp_path, "plan", "--no-refresh", "--json").stdout)
    assert any("cx22 is deprecated" in w for w in as_json["warnings"])


def test_validate_names_file_and_line_for_names_and_labels(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(SERVER.replace('"cx22"', '"cx23"').replace(
        'name        = "web"', 'name        = "web.example.com"'))
    cli(tmp_path, "validate")  # RFC 1123: dots are allowed
    (tmp_path / "main.tf").write_text(SERVER.replace('"cx22"', '"cx23"').replace(
        'location    = "fsn1"', 'location    = "fsn1"\n  labels      = { "bad key" = "x", ok = "-bad" }').replace(
        'name        = "web"', 'name        = "-web"'))
    proc = cli(tmp_path, "validate", code=1)
    lines = proc.stderr.strip().splitlines()
    assert any(line.startswith('error: main.tf:6: "name" must be a valid host name (RFC 1123)') for line in lines)
    assert any(line.startswith('error: main.tf:10: "labels" keys must be [prefix/]name') for line in lines), lines
    assert any(line.startswith('error: main.tf:10: "labels.ok" must be empty or at most 63') for line in lines)


def test_a_type_not_offered_in_the_location_is_refused_with_the_choices(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(SERVER.replace('"cx22"', '"cax11"').replace('"fsn1"', '"ash"'))
    proc = cli(tmp_path, "plan", "--no-refresh", code=1)
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: main.tf:9: hcloud_server.web: server type cax11 is not offered in ash "
                           "(cax11 is offered in fsn1, hel1, nbg1; types offered in ash: ccx13"), line


def test_catalog_refresh_rewrites_the_table_from_the_account(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "main.tf").write_text(f'provider "hcloud" {{\n  token = "test-token"\n  endpoint = '
                                      f'"{emulator.endpoint}"\n}}\n')
    out = tmp_path / "tables"
    proc = cli(tmp_path, "providers", "catalog", "--refresh", "--provider", "hcloud", "--out-dir", str(out))
    table = out / "hcloud" / "prices.json"
    assert proc.stdout.strip() == f"hcloud: wrote {table}"
    data = json.loads(table.read_text())
    assert data["vat_rate"] == "19.00" and emulator.endpoint in data["source"]
    cat = catalogs.from_table(data, str(table))
    bundled = catalogs.bundled()
    assert set(cat.types) == set(bundled.types)
    cx22, cx23 = cat.types["cx22"], cat.types["cx23"]
    assert set(cx22.deprecations) == {"fsn1", "nbg1", "hel1"} and cx22.successor == "cx23"
    assert cx22.deprecations["fsn1"].unavailable_after.isoformat() == "2025-12-31"
    assert not cx23.deprecations and cx23.prices["fsn1"].monthly_net == pytest.approx(5.49)
    assert set(cat.types["cpx11"].deprecations) == {"fsn1", "nbg1", "hel1", "sin"}
    assert emulator.request_counts == {"GET /server_types": 1, "GET /locations": 1, "GET /pricing": 1}


def test_catalog_refresh_without_a_token_is_one_line(tmp_path: Path) -> None:
    proc = cli(tmp_path, "providers", "catalog", "--refresh", "--provider", "hcloud", "--out-dir",
               str(tmp_path / "t"), code=1)
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: hcloud: no Hetzner Cloud API token is configured")
    usage = cli(tmp_path, "providers", "catalog", code=1)
    assert "--refresh" in usage.stderr
