"""Schema checks that passed are kept between runs: a repeated validate does not import jsonschema, a value that
fails is still checked (and worded) by jsonschema, nothing of a value is written to the cache, and the state
document's quick test never accepts what the state schema refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import schemas
from reconciler.cache import CACHE_ENV
from reconciler.config import schema_verdicts
from reconciler.config.schema import BlockSchema
from reconciler.errors import SourcePos
from reconciler.state.validate import _plain_document

SECRET = "s3cr3t-t0ken-0123456789abcdef0123456789abcdef0123456789abcdef0123"
CONFIG = f"""
provider "hcloud" {{
  token = "{SECRET}"
}}

resource "hcloud_server" "web" {{
  name        = "web"
  server_type = "cx23"
  image       = "ubuntu-24.04"
  labels      = {{ team = "ops" }}
}}
"""
PROBE = ("import json, sys\nfrom reconciler.cli.main import main\n"
         "code = main(['validate', '-C', sys.argv[1]])\nprint(json.dumps([code, 'jsonschema' in sys.modules]))\n")


def _validate(directory: Path, cache: Path) -> tuple[int, bool, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(directory)], env={**os.environ, CACHE_ENV: str(cache)},
                          capture_output=True, text=True)
    code, imported = json.loads(proc.stdout.splitlines()[-1])
    return code, imported, proc.stdout + proc.stderr


def test_a_repeated_validate_does_not_import_jsonschema_and_keeps_no_value(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    cache = tmp_path / "cache"
    assert _validate(tmp_path, cache)[:2] == (0, True)  # checked by jsonschema
    assert _validate(tmp_path, cache)[:2] == (0, False)  # every check known to pass: jsonschema not imported
    kept = b"".join(p.read_bytes() for p in (cache / "verdicts").iterdir())
    assert kept and SECRET.encode() not in kept and b"ubuntu-24.04" not in kept and b"ops" not in kept


def test_secret_values_are_not_in_any_kept_check(tmp_path: Path) -> None:
    """A provider token and a server's user_data (`writeOnly` in the schemas) are checked on every run without
    jsonschema and nothing kept depends on them: other values of them find every check known."""
    user_data = '\n  user_data   = "#cloud-config\\npassword: hunter2"'
    secret_config = CONFIG.replace('labels      = { team = "ops" }', 'labels      = { team = "ops" }' + user_data)
    (tmp_path / "main.tf").write_text(secret_config)
    cache = tmp_path / "cache"
    assert _validate(tmp_path, cache)[:2] == (0, True)
    kept = {p.name: p.read_bytes() for p in (cache / "verdicts").iterdir()}
    other = secret_config.replace(SECRET, "another-token-" + "f" * 50).replace("hunter2", "correct horse")
    (tmp_path / "main.tf").write_text(other)
    assert _validate(tmp_path, cache)[:2] == (0, False)  # known to pass without the secrets' values
    assert {p.name: p.read_bytes() for p in (cache / "verdicts").iterdir()} == kept  # and nothing new to keep


def test_a_value_that_fails_after_a_cached_pass_is_still_refused_by_jsonschema(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    cache = tmp_path / "cache"
    assert _validate(tmp_path, cache)[0] == 0
    (tmp_path / "main.tf").write_text(CONFIG.replace('labels      = { team = "ops" }', "labels      = 7"))
    code, imported, output = _validate(tmp_path, cache)
    assert code == 1 and imported
    assert 'main.tf:10' in output and '"labels" must be a map, not a number' in output


def test_failures_are_never_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    schema = {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}}
    checker = BlockSchema(schema, None, "test")
    pos = SourcePos("main.tf", 3)
    assert checker.check({"size": 2}, lambda _: pos) == []
    assert [e.message for e in checker.check({"size": 0}, lambda _: pos)] == ['"size": 0 is less than the minimum of 1']
    schema_verdicts.save()
    again = BlockSchema(schema, None, "test")  # a new process, as far as the cache knows
    assert ("size", (int, 2)) in again.verdicts and ("size", (int, 0)) not in again.verdicts
    assert len(again.check({"size": 0}, lambda _: pos)) == 1
    other = BlockSchema({**schema, "properties": {"size": {"type": "integer", "minimum": 3}}}, None, "test")
    assert ("size", (int, 2)) not in other.verdicts  # another schema text: nothing carried over
    assert [e.message for e in other.check({"size": 2}, lambda _: pos)] == ['"size": 2 is less than the minimum of 3']


DOCS: list[Any] = [
    {"version": 1, "serial": 0, "lineage": "x", "resources": {}, "outputs": {}},
    {"version": 1, "serial": 3, "lineage": "x" * 200, "reconciler_version": "0.1"},
    {"version": 1, "serial": 3, "lineage": "x" * 201},
    {"version": 1, "serial": 3, "lineage": ""},
    {"version": True, "serial": 3, "lineage": "x"},
    {"version": 1.0, "serial": 3, "lineage": "x"},
    {"version": -1, "serial": 3, "lineage": "x"},
    {"version": 1, "serial": "3", "lineage": "x"},
    {"serial": 3, "lineage": "x"},
    {"version": 1, "serial": 3, "lineage": "x", "resources": []},
    {"version": 1, "serial": 3, "lineage": "x", "resources": {"a" * 1001: {"type": "t"}}},
    {"version": 1, "serial": 3, "lineage": "x", "outputs": {"o": {"value": 1, "sensitive": "yes"}}},
    {"version": 1, "serial": 3, "lineage": "x", "outputs": {"o": {"sensitive": True}}},
    {"version": 1, "serial": 3, "lineage": "x", "outputs": {"o": {"value": None, "sensitive": False}}},
    {"version": 1, "serial": 3, "lineage": "x", "outputs": []},
    {"version": 1, "serial": 3, "lineage": "x", "reconciler_version": 1},
    {"version": 1, "serial": 3, "lineage": "x", "extra": {"kept": True}},
    [],
]


@pytest.mark.parametrize("doc", DOCS)
def test_the_state_documents_quick_test_accepts_only_what_the_schema_accepts(doc: Any) -> None:
    schema = schemas.load("state")
    top = {**schema, "properties": {**schema["properties"], "resources": {"type": "object"}}}
    assert not _plain_document(doc) or jsonschema.Draft202012Validator(top).is_valid(doc)


def test_the_common_shapes_take_the_quick_path() -> None:
    assert all(_plain_document(DOCS[i]) for i in (0, 1, 13, 16))
