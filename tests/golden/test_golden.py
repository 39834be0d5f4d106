"""Golden plans: each folder tests/golden/<case>/ holds a configuration, an optional prior state
(`state.json`) and options (`case.json`); the plan's JSON, text and action graph must match the files
beside them. Set RECONCILER_REGEN=1 to rewrite the expected files after reviewing a change.

Each case also states, in `actions.txt`, what it must show, checked on its own (the regenerated files never
rewrite it): a `#` line saying why, one `SYMBOL ADDRESS` line per change that does something (the plan's
symbols: + - ~ -/+ > ^ z), `A -> B` for an edge the action graph must have, and `error: TEXT` for a case
whose plan must fail with a message containing TEXT."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.actions import Action
from reconciler.cli import context as ctx
from reconciler.config.variables import VarSources
from reconciler.errors import ReconcilerError
from reconciler.plan.configmodel import Model
from reconciler.plan.graph import build_graph
from reconciler.plan.model import Plan
from reconciler.plan.planfile import check_fresh, plan_from_json, plan_to_json
from reconciler.plan.planner import Planner, PlanOptions
from reconciler.plan.render_graph import to_mermaid
from reconciler.plan.render_json import render_json
from reconciler.plan.render_text import render_text
from reconciler.registry import ProviderSet
from reconciler.state.document import StateDoc
from tests.fakes import Cloud, factories
from tests.golden.statements import STATEMENTS

CASES = Path(__file__).parent
REGEN = os.environ.get("RECONCILER_REGEN") == "1"
FIXED_TIME = "2026-01-01T00:00:00+00:00"  # the plan's timestamp, so the expected files do not move
CONFIG_SUFFIXES = (".tf", ".tf.json")


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.json").is_file())


def run_case(case: Path, workdir: Path) -> dict[str, str]:
    """The rendered outputs of one case (file name -> text)."""
    plan = plan_case(case, workdir)
    if isinstance(plan, ReconcilerError):
        return {"error.txt": "\n".join(plan.lines()) + "\n"}
    return {
        "plan.json": json.dumps(render_json(plan), indent=2, sort_keys=True) + "\n",
        "plan.txt": render_text(plan),
        "graph.mmd": to_mermaid(build_graph(plan)),
    }


def plan_case(case: Path, workdir: Path) -> Plan | ReconcilerError:
    """The plan of one case, or the error it fails with."""
    for f in case.iterdir():
        if f.name.endswith(CONFIG_SUFFIXES) or f.name in ("flake.nix", "inventory.json"):
            shutil.copy(f, workdir / f.name)
    opts: dict[str, Any] = json.loads((case / "case.json").read_text()) if (case / "case.json").exists() else {}
    state = StateDoc.loads((case / "state.json").read_text(), "state.json") if (case / "state.json").exists() \
        else StateDoc(lineage="00000000-0000-4000-8000-000000000000", exists=False)
    world = Cloud(toplevels=opts.get("toplevels", {}))
    try:
        loaded = ctx.load(workdir, VarSources(cli=tuple(opts.get("vars", ())), env={}))
        providers = ProviderSet(factories(world), loaded.provider_settings, state.lineage, workdir)
        planner = Planner(Model(loaded.config, loaded.variables), providers, loaded.provider_settings)
        options = PlanOptions(refresh=False, destroy=opts.get("destroy", False),
                              targets=tuple(opts.get("targets", ())))
        plan = replace(asyncio.run(planner.plan(state, options)), created=FIXED_TIME)
        if "state_moves_on" in opts:  # the plan is saved, then another apply writes state before it is applied
            moved = opts["state_moves_on"]
            later = state if moved["serial"] == "same" else \
                StateDoc(lineage=moved.get("lineage", state.lineage), serial=moved["serial"], exists=True)
            check_fresh(plan_from_json(json.loads(json.dumps(plan_to_json(plan)))), later)
    except ReconcilerError as e:
        return e
    return plan


def stated(case: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]], list[str]]:
    """(changes, edges, errors) that a case's actions.txt says its plan must show."""
    changes: set[tuple[str, str]] = set()
    edges: set[tuple[str, str]] = set()
    errors: list[str] = []
    for line in (case / "actions.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("error:"):
            errors.append(line[6:].strip())
        elif " -> " in line:
            a, b = line.split(" -> ", 1)
            edges.add((a.strip(), b.strip()))
        else:
            symbol, address = line.split(None, 1)
            changes.add((symbol, address))
    return changes, edges, errors


def shown(plan: Plan) -> set[tuple[str, str]]:
    return {(c.action.symbol.strip(), c.address) for c in plan.changes if c.action is not Action.NOOP}


@pytest.mark.parametrize("name", case_names())
def test_case_shows_the_actions_it_states(name: str, tmp_path: Path) -> None:
    case = CASES / name
    assert (case / "actions.txt").is_file(), f"{name}: no actions.txt saying what the case must show"
    changes, edges, errors = stated(case)
    plan = plan_case(case, tmp_path)
    if errors:
        assert isinstance(plan, ReconcilerError), f"{name}: the plan should fail"
        text = "\n".join(plan.lines())
        assert all(e in text for e in errors), text
        return
    assert not isinstance(plan, ReconcilerError), "\n".join(plan.lines())
    assert shown(plan) == changes
    graph = build_graph(plan)
    assert {e for e in edges if not graph.has_edge(*e)} == set()


@pytest.mark.parametrize("name", case_names())
def test_golden(name: str, tmp_path: Path) -> None:
    case = CASES / name
    outputs = run_case(case, tmp_path)
    expected_dir = case / "expected"
    if REGEN:
        shutil.rmtree(expected_dir, ignore_errors=True)
        expected_dir.mkdir()
        for fname, text in outputs.items():
            (expected_dir / fname).write_text(text)
    expected = {p.name: p.read_text() for p in expected_dir.iterdir()} if expected_dir.exists() else {}
    assert sorted(outputs) == sorted(expected), f"{name}: expected files {sorted(expected)}"
    for fname, text in outputs.items():
        assert text == expected[fname], f"{name}/{fname} differs; review, then RECONCILER_REGEN=1"


@pytest.mark.parametrize("name", case_names())
def test_golden_case_shows_what_it_states(name: str) -> None:
    expected = CASES / name / "expected"
    assert name in STATEMENTS, f"{name}: say what it must show in tests/golden/statements.py"
    for check in STATEMENTS[name]:
        text = (expected / check[0]).read_text()
        if len(check) == 2:
            assert check[1] in text, f"{name}/{check[0]} must show {check[1]!r}"
        else:
            assert check[1](json.loads(text)), f"{name}/{check[0]}: {check[2]}"


def test_there_are_enough_cases() -> None:
    assert len(case_names()) >= 25


def test_hcl_and_json_fleets_plan_identically() -> None:
    hcl = (CASES / "create_all" / "expected" / "plan.json").read_text()
    js = (CASES / "create_all_json" / "expected" / "plan.json").read_text()
    assert hcl == js
