"""The fuzz test: hostile configurations, variable values and state documents through the CLI (in this
process, with a hang guard). Every run must exit 0 or 1 with each error on one line naming a file, and no
traceback, no "internal error", no hang.

Seeded (hypothesis `derandomize`) and bounded to about a minute; RECONCILER_FUZZ_SCALE multiplies the
number of examples (bench/fuzz_crashes.py runs the same cases 600 at a time and counts the outcomes).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.cases import HCL_SEED, STATE_SEED, Case, any_case, run_case

SCALE = float(os.environ.get("RECONCILER_FUZZ_SCALE", "1"))


def _settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


def check(case: Case) -> None:
    directory = Path(tempfile.mkdtemp(prefix="reconciler-fuzz-"))
    try:
        outcome = run_case(case, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert outcome.problems == (), (case.args, outcome.problems, outcome.stderr[:2000])


@_settings(200)
@given(st.integers(min_value=0, max_value=2**32))
def test_mutated_configurations_states_and_var_files(seed: int) -> None:
    check(any_case(seed))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)


@st.composite
def state_documents(draw: st.DrawFn) -> bytes:
    """A state document with some of its keys (or one resource entry's keys) replaced by anything."""
    doc: dict[str, Any] = json.loads(json.dumps(STATE_SEED))
    for key in draw(st.lists(st.sampled_from(sorted(doc)), max_size=3)):
        doc[key] = draw(json_values)
    if draw(st.booleans()):
        entry = doc.get("resources")
        if isinstance(entry, dict) and entry:
            target = entry[sorted(entry)[0]]
            if isinstance(target, dict):
                target[draw(st.sampled_from(["type", "id", "attributes", "private", "pending", "dependencies",
                                             "extra"]))] = draw(json_values)
    text = json.dumps(doc)
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]
    return text.encode()


@_settings(100)
@given(state_documents(), st.sampled_from([("plan", "--no-refresh"), ("show",), ("state", "list"), ("output",)]))
def test_state_documents(raw: bytes, args: tuple[str, ...]) -> None:
    check(Case({"main.tf": HCL_SEED.encode(), "reconciler.state.json": raw}, args,
               ("main.tf", "reconciler.state.json")))


@_settings(100)
@given(st.sampled_from(["n", "names", "undeclared"]), st.text(max_size=200))
def test_variable_values(name: str, value: str) -> None:
    if "\x00" in value:  # no process argument can hold NUL; the in-process run would take it
        value = value.replace("\x00", "")
    check(Case({"main.tf": HCL_SEED.encode()}, ("validate", "--var", f"{name}={value}"), ("main.tf",)))
