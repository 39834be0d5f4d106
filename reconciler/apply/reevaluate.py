"""Evaluate one instance's configuration at apply time, when what it references has been applied.

The scope is built from the live state for instances already applied (their real ids and addresses) and
from the plan for the rest, over just the declarations this one depends on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.config.scope import split_address
from reconciler.plan.configmodel import Model
from reconciler.plan.expansion import InstanceSpec, expand
from reconciler.plan.model import Plan
from reconciler.state.document import StateDoc
from reconciler.values import UNKNOWN


class Reevaluator:
    def __init__(self, model: Model, plan: Plan) -> None:
        self.model = model
        self.expansions = model.expansions()
        self.plan_values = {c.address: c.after for c in plan.changes if c.after is not None}
        self.specs: dict[str, InstanceSpec] = {s.address: s for specs in self.expansions.values() for s in specs}

    def value(self, address: str, state: StateDoc) -> Any:
        """An instance's value now: as recorded once its step is done, else as planned (UNKNOWN if unknown)."""
        res = state.resources.get(address)
        if res is not None and res.id is not None and res.pending is None:
            return dict(res.attributes)
        return self.plan_values.get(address, UNKNOWN)

    def evaluate(self, address: str, state: StateDoc) -> dict[str, Any]:
        """The instance's attributes evaluated against `state`; values still unknown stay UNKNOWN."""
        return self.evaluate_many([address], state)[address]

    def evaluate_many(self, addresses: list[str], state: StateDoc) -> dict[str, dict[str, Any]]:
        """Several instances at once: the scope is built once per declaration, not once per instance."""
        from reconciler.config.evaluator import evaluate

        by_decl: dict[str, list[str]] = {}
        for address in addresses:
            by_decl.setdefault(split_address(address)[0], []).append(address)
        out: dict[str, dict[str, Any]] = {}
        for decl_address, group in by_decl.items():
            scope = self.model.scope(lambda s: self.value(s.address, state), upstream_of=decl_address)
            decl = self.model.decls.resources[decl_address]
            specs = self.specs
            if decl.for_each is not None:
                specs = {s.address: s for s in expand(decl, scope)}
            for address in group:
                iscope = specs[address].scope(scope)
                out[address] = {name: evaluate(expr, iscope) for name, expr in decl.attributes.items()}
        return out


def inconsistencies(planned: Mapping[str, Any] | None, now: Mapping[str, Any]) -> list[str]:
    """Configuration attributes whose value was known when the plan was made and is different now."""
    if planned is None:
        return []
    out = []
    for key, value in now.items():
        before = planned.get(key, UNKNOWN)
        if value is None or _known_equal_or_unknown(before, value):
            continue
        out.append(key)
    return out


def _known_equal_or_unknown(planned: Any, now: Any) -> bool:
    if planned is UNKNOWN:
        return True
    if isinstance(planned, dict) and isinstance(now, dict):
        # only what the configuration says counts: providers add defaults and computed values to a plan
        return all(v is None or _known_equal_or_unknown(planned.get(k, UNKNOWN), v) for k, v in now.items())
    if isinstance(planned, list) and isinstance(now, list):
        return len(planned) == len(now) and all(_known_equal_or_unknown(a, b) for a, b in zip(planned, now,
                                                                                              strict=True))
    return bool(planned == now)
