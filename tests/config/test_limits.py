"""The bounds of reconciler/config/limits.py, each through `validate` as a user meets it: one line naming
the file and line, exit 1, promptly (the hang guard is 30 s), instead of a hang, a memory blow-up or a
RecursionError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config.limits import clip, one_line, too_deep
from tests.fuzz.cases import Case, run_case


def _server(attribute: str) -> str:
    return f"""resource "hcloud_server" "s" {{
  {attribute}
  name        = "s"
  server_type = "cx22"
  image       = "debian-12"
}}
"""


CASES = {
    "count 1e9": (_server("count = 1e9"), "main.tf:2: count = 1000000000 is more than 100,000 instances"),
    "file of a device": (_server('labels = { a = file("/dev/zero") }'), '"/dev/zero" is not a regular file'),
    "file of a folder": (_server('labels = { a = file(".") }'), '"." is not a regular file'),
    "format width": (_server('labels = { a = format("%10000000000d", 1) }'),
                     "a width of 10000000000 is more than 10,000"),
    "format precision": (_server('labels = { a = format("%.99999f", 1) }'), "a precision of 99999 is more than"),
    "brackets 1,000 deep": ("locals {\n  a = 1\n  x = " + "[" * 1000 + "]" * 1000 + "\n}\n",
                            "main.tf:3: nested more than 100 levels deep"),
    "an operator chain of 3,000": ("locals {\n  x = " + " + ".join(["1"] * 3000) + "\n}\n",
                                   "main.tf:1: an expression nests too deeply to follow"),
    "jsondecode 2,000 deep": ('locals {\n  x = jsondecode("' + "[" * 2000 + '")\n}\n',
                              "the value nests too deeply"),
    "a 1 MB string": (_server('labels = { a = "' + "a" * 1_000_000 + '" + 1 }'),
                      'got string "aaaaaaaaaaaaaaaaaaaa'),
    "a label of 2^19 newline escapes": ('resource "hcloud_server" "' + "\\n" * 2**19 + '" {\n  name = 1\n}\n',
                                        "main.tf:"),
    "a 5,000-digit number": (_server('count = ' + "1" * 5000), "main.tf:2:"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bound_is_one_clean_line(tmp_path: Path, name: str) -> None:
    text, expected = CASES[name]
    outcome = run_case(Case({"main.tf": text.encode()}, ("validate",), ("main.tf",)), tmp_path)
    assert outcome.problems == () and outcome.code == 1, (outcome.problems, outcome.stderr[:500])
    assert expected in outcome.stderr, outcome.stderr[:500]
    assert all(len(line) < 700 for line in outcome.stderr.splitlines())


def test_for_each_of_too_many_keys(tmp_path: Path) -> None:
    doc = {"locals": {"keys": [f"k{i}" for i in range(100_001)]},
           "resource": {"hcloud_server": {"s": {"for_each": "${toset(local.keys)}", "name": "s-${each.key}",
                                                "server_type": "cx22", "image": "debian-12"}}}}
    outcome = run_case(Case({"main.tf.json": json.dumps(doc).encode()}, ("validate",), ("main.tf.json",)), tmp_path)
    assert outcome.problems == () and outcome.code == 1, outcome.problems
    assert "for_each has 100,001 keys, more than 100,000 instances" in outcome.stderr


def test_clip_and_one_line() -> None:
    assert clip("x" * 100) == "x" * 40 + "..."
    assert clip("a\nb\x0cc") == "a\\nb\\x0cc"
    assert one_line("a\u2028b\rc").splitlines() == ["a\\u2028b\\rc"]
    assert len(one_line('"' + "y" * 10_000 + '"')) < 700


def test_nesting_scan_skips_strings_and_comments() -> None:
    assert too_deep('x = "' + "[" * 500 + '"  # ' + "(" * 500) is None
    assert too_deep("a\nb\n" + "{" * 101) == 3
