"""The cache of parsed .tf files: a file parsed before is read back (and the parser is not even imported), a
changed text or name is parsed anew, errors are never cached, and a broken or unwritable cache is only a miss."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config import parse_cache
from reconciler.config.hcl_loader import load_hcl_text
from reconciler.errors import ConfigError
from tests.startup_probe import validate_imports

TEXT = 'variable "size" {\n  default = "cx23"\n}\n\nresource "hcloud_server" "web" {\n  name = "web"\n}\n'


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(parse_cache.CACHE_ENV, str(tmp_path))
    return tmp_path / "syntax"


def test_a_parsed_file_is_read_back_equal(cache_dir: Path) -> None:
    first = load_hcl_text(TEXT, "main.tf")
    assert len(list(cache_dir.glob("*.pickle"))) == 1
    again = parse_cache.get("main.tf", TEXT)
    assert again is not None and again == first and again.text == TEXT
    assert load_hcl_text(TEXT, "main.tf") == first


def test_a_changed_text_or_name_is_a_miss(cache_dir: Path) -> None:
    load_hcl_text(TEXT, "main.tf")
    assert parse_cache.get("main.tf", TEXT.replace("cx23", "cx33")) is None
    assert parse_cache.get("other.tf", TEXT) is None
    changed = load_hcl_text(TEXT.replace("cx23", "cx33"), "main.tf")
    assert "cx33" in repr(changed.body)


def test_syntax_errors_are_not_cached(cache_dir: Path) -> None:
    with pytest.raises(ConfigError):
        load_hcl_text('resource "a" "b" {\n  x = \n', "bad.tf")
    assert not cache_dir.exists() or not list(cache_dir.glob("*.pickle"))


def test_a_corrupt_entry_is_a_miss_and_is_replaced(cache_dir: Path) -> None:
    tree = load_hcl_text(TEXT, "main.tf")
    (entry,) = cache_dir.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert parse_cache.get("main.tf", TEXT) is None
    assert load_hcl_text(TEXT, "main.tf") == tree
    assert parse_cache.get("main.tf", TEXT) == tree


def test_off_and_unwritable_caches_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parse_cache.CACHE_ENV, "off")
    tree = load_hcl_text(TEXT, "main.tf")
    assert parse_cache.get("main.tf", TEXT) is None
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would be")
    monkeypatch.setenv(parse_cache.CACHE_ENV, str(blocked))
    assert load_hcl_text(TEXT, "main.tf") == tree


def test_a_directory_others_may_write_to_is_never_read(cache_dir: Path) -> None:
    load_hcl_text(TEXT, "main.tf")
    assert parse_cache.get("main.tf", TEXT) is not None
    cache_dir.chmod(0o777)
    assert parse_cache.get("main.tf", TEXT) is None
    cache_dir.chmod(0o700)
    assert parse_cache.get("main.tf", TEXT) is not None


def test_a_repeated_validate_does_not_import_the_parser(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TEXT.replace('  name = "web"\n', '  name = "web"\n  server_type = "cx23"\n'
                                                   '  image = "ubuntu-24.04"\n'))
    env = {**os.environ, parse_cache.CACHE_ENV: str(tmp_path / "cache")}
    runs = [validate_imports(tmp_path, env, ["hcl2", "lark"]) for _ in range(2)]
    assert runs[0] == (0, ["hcl2", "lark"])  # parsed: the parser was loaded
    assert runs[1] == (0, [])  # read back: neither hcl2 nor lark was imported
