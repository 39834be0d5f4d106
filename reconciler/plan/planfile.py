"""Saved plans: `plan --out FILE` writes one, `apply FILE` reads it back exactly.

A saved plan carries the configuration snapshot and variable values it was made from, and the state
lineage and serial it was made against; `check_fresh` refuses it when the state moved on since.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.actions import Action
from reconciler.errors import PlanFileError, StalePlanError
from reconciler.plan.drift import Drift
from reconciler.plan.model import PLAN_FORMAT, PLAN_FORMAT_VERSION, Cost, CostLine, OutputChange, Plan, ResourceChange
from reconciler.reasons import Reason
from reconciler.state.document import StateDoc
from reconciler.values import UNKNOWN

_UNKNOWN_MARK = {"__unknown__": True}


def _encode(value: Any) -> Any:
    if value is UNKNOWN:
        return _UNKNOWN_MARK
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value == _UNKNOWN_MARK:
            return UNKNOWN
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _change_to_json(c: ResourceChange) -> dict[str, Any]:
    return {"address": c.address, "type": c.type, "name": c.name, "provider": c.provider, "kind": c.kind,
            "action": c.action.value, "reason": c.reason.name, "before": _encode(c.before),
            "after": _encode(c.after), "dependencies": list(c.dependencies),
            "requires_replace": list(c.requires_replace), "changed": list(c.changed), "notes": list(c.notes),
            "sensitive": list(c.sensitive), "dormant_because": c.dormant_because,
            "create_before_destroy": c.create_before_destroy, "config": _encode(c.config)}


def _change_from_json(d: dict[str, Any]) -> ResourceChange:
    return ResourceChange(
        address=d["address"], type=d["type"], name=d["name"], provider=d["provider"], kind=d["kind"],
        action=Action(d["action"]), reason=Reason[d["reason"]], before=_decode(d["before"]),
        after=_decode(d["after"]), dependencies=tuple(d["dependencies"]),
        requires_replace=tuple(d["requires_replace"]), changed=tuple(d["changed"]), notes=tuple(d["notes"]),
        sensitive=tuple(d["sensitive"]), dormant_because=d["dormant_because"],
        create_before_destroy=d["create_before_destroy"], config=_decode(d.get("config")))


def plan_to_json(plan: Plan) -> dict[str, Any]:
    cost = None
    if plan.cost is not None:
        cost = {"lines": [[x.currency, x.before, x.after] for x in plan.cost.lines],
                "unpriced": list(plan.cost.unpriced), "sources": list(plan.cost.sources)}
    return {
        "format": PLAN_FORMAT, "format_version": PLAN_FORMAT_VERSION, "created": plan.created,
        "lineage": plan.lineage, "serial": plan.serial, "state_exists": plan.state_exists,
        "changes": [_change_to_json(c) for c in plan.changes], "config": dict(plan.config),
        "variables": _encode(dict(plan.variables)), "sensitive_variables": sorted(plan.sensitive_variables),
        "targets": list(plan.targets), "destroy": plan.destroy, "refreshed": plan.refreshed, "cost": cost,
        "after_edges": [list(e) for e in plan.after_edges], "inventory": _encode(dict(plan.inventory)),
        "refreshed_state": plan.refreshed_state,
        "drift": [[d.address, d.kind, d.detail, d.type, d.before, d.after] for d in plan.drift],
        "warnings": list(plan.warnings), "refresh_only": plan.refresh_only,
        "outputs": [[o.name, _encode(o.before), _encode(o.after), o.sensitive, o.recorded] for o in plan.outputs],
        "configuration": dict(plan.configuration),
    }


def plan_from_json(d: dict[str, Any]) -> Plan:
    cost = None
    if d.get("cost"):
        cost = Cost(tuple(CostLine(c, b, a) for c, b, a in d["cost"]["lines"]), tuple(d["cost"]["unpriced"]),
                    tuple(d["cost"]["sources"]))
    return Plan(
        lineage=d["lineage"], serial=d["serial"], state_exists=d["state_exists"],
        changes=tuple(_change_from_json(c) for c in d["changes"]), config=d["config"],
        variables=_decode(d["variables"]), sensitive_variables=frozenset(d["sensitive_variables"]),
        targets=tuple(d["targets"]), destroy=d["destroy"], refreshed=d["refreshed"], cost=cost,
        after_edges=tuple((a, b) for a, b in d["after_edges"]), inventory=_decode(d["inventory"]),
        created=d["created"], refreshed_state=d.get("refreshed_state"),
        drift=tuple(Drift(*x) for x in d.get("drift", [])), warnings=tuple(d.get("warnings", [])),
        refresh_only=d.get("refresh_only", False),
        outputs=tuple(OutputChange(n, _decode(b), _decode(a), s, r) for n, b, a, s, r in d.get("outputs", [])),
        configuration=d.get("configuration", {}),
    )


def save_plan(plan: Plan, path: Path) -> None:
    from reconciler.state.local import atomic_write

    atomic_write(path, json.dumps(plan_to_json(plan), indent=1) + "\n")


def load_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(f"plan file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PlanFileError(f"{path} is not a saved reconciler plan ({e})") from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanFileError(f"{path} is not a saved reconciler plan", hint="make one with reconciler plan --out FILE")
    if data.get("format_version") != PLAN_FORMAT_VERSION:
        raise PlanFileError(f"{path} was saved by another version of reconciler (format {data.get('format_version')})")
    try:
        return plan_from_json(data)
    except (KeyError, ValueError, TypeError) as e:
        raise PlanFileError(f"{path} is damaged: {e}") from None


def check_fresh(plan: Plan, state: StateDoc) -> None:
    """Refuse a saved plan whose state has moved on (another apply, or a state made since an empty one)."""
    if not plan.state_exists:
        fresh = not state.exists
        was = "no state"
    else:
        fresh = state.exists and plan.lineage == state.lineage and plan.serial == state.serial
        was = f"serial {plan.serial} of lineage {plan.lineage}"
    if not fresh:
        now = f"serial {state.serial} of lineage {state.lineage}" if state.exists else "no state"
        raise StalePlanError(f"saved plan is stale: it was made against {was}, the state is now {now}",
                             hint="run reconciler plan again")
