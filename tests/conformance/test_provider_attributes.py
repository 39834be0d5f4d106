"""Provider attributes as the Terraform providers type them: hcloud's poll_interval is a Go duration and
poll_function is honoured; every attribute of the Terraform providers' schemas that reconciler does not
support is refused with one line naming it (schemas/unsupported.json lists them, with the reason)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import schemas
from providers.hcloud.settings import HcloudSettings
from reconciler.config.duration import BadDuration, seconds
from reconciler.config.schema import block_schema
from reconciler.errors import SourcePos

POS = SourcePos("main.tf", 3)


@pytest.mark.parametrize(("text", "value"), [
    ("500ms", 0.5), ("2s", 2.0), ("1m30s", 90.0), ("1.5h", 5400.0), ("250us", 0.00025), (".5s", 0.5), (3, 3.0)])
def test_durations_read_as_go_reads_them(text: Any, value: float) -> None:
    assert seconds(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["500", "5 parsecs", "ms", "1m 30s", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(BadDuration):
        seconds(text)


def test_hcloud_poll_settings_as_the_terraform_provider_types_them() -> None:
    s = HcloudSettings.from_mapping({"token": "t", "poll_interval": "500ms", "poll_function": "constant"}, env={})
    assert s.poll_interval == 0.5 and s.poll_cap == 0.5
    s = HcloudSettings.from_mapping({"token": "t", "poll_interval": "2s"}, env={})
    assert s.poll_interval == 2.0 and s.poll_cap == 40.0


def test_provider_block_schema_takes_durations_and_refuses_what_is_not_one() -> None:
    check = block_schema("provider_hcloud")
    assert check.check_plain({"token": "t", "poll_interval": "500ms", "poll_function": "exponential"}, POS,
                             'provider "hcloud"') == []
    bad = check.check_plain({"poll_interval": "soon"}, POS, 'provider "hcloud"')
    assert len(bad) == 1 and "poll_interval" in bad[0].message and "500ms" in bad[0].message
    bad = check.check_plain({"poll_function": "linear"}, POS, 'provider "hcloud"')
    assert len(bad) == 1 and "poll_function" in bad[0].message


def _nested(path: str, attr: str) -> dict[str, Any]:
    value: dict[str, Any] = {attr: "x"}
    for part in reversed(path.split(".") if path else []):
        value = {part: [value]}
    return value


UNSUPPORTED = [(schema, path, attr) for schema, blocks in schemas.load("unsupported").items()
               for path, attrs in blocks.items() for attr in attrs]


@pytest.mark.parametrize(("schema", "path", "attr"), UNSUPPORTED)
def test_every_unsupported_provider_attribute_is_refused_by_name(schema: str, path: str, attr: str) -> None:
    check = block_schema(schema)
    values = _nested(path, attr)
    if schema.startswith("provider_"):
        errors = check.check_plain(values, POS, schema)
    else:
        errors = check.check(values, lambda _: POS)
    full = f"{path.replace('.', '[0].')}[0].{attr}" if path else attr
    expected = (f'"{full}" (an attribute of the Terraform provider) is not supported: '
                f'{schemas.load("unsupported")[schema][path][attr]}')
    naming = [e.message for e in errors if f'"{full}"' in e.message]
    assert len(naming) == 1 and naming[0].endswith(expected), [e.message for e in errors]


def test_validate_names_an_unsupported_attribute_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text("""
provider "hcloud" {
  token         = "t"
  poll_interval = "500ms"
}
resource "hcloud_server" "web" {
  name        = "web"
  server_type = "cx22"
  image       = "debian-12"
  datacenter  = "fsn1-dc14"
}
""")
    proc = subprocess.run([sys.executable, "-m", "reconciler", "validate", "-C", str(tmp_path), "--no-color"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any('main.tf:10' in line and '"datacenter"' in line and "not supported" in line for line in lines), lines
    assert "poll_interval" not in proc.stderr
    assert json.dumps(lines)  # one short line each, no traceback
    assert "Traceback" not in proc.stderr
