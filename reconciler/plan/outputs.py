"""Outputs in a plan: each output's recorded value (from state) and its planned value (UNKNOWN where it
depends on what only apply learns), for Terraform's `output_changes` and the text plan's
`Changes to Outputs:`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.config.decls import Declarations
from reconciler.config.scope import ConfigScope
from reconciler.errors import ReconcilerError
from reconciler.plan.model import OutputChange
from reconciler.values import UNKNOWN


def plan_outputs(decls: Declarations, scope: ConfigScope,
                 recorded: Mapping[str, Mapping[str, Any]]) -> tuple[OutputChange, ...]:
    """Every output, with its value in state (None when it has none) and its value after this plan. One
    whose expression fails on planned values is planned as known after apply (validate reports the error)."""
    from reconciler.config.evaluator import evaluate

    out = []
    for name, decl in sorted(decls.outputs.items()):
        try:
            value: Any = evaluate(decl.expr, scope)
        except ReconcilerError:
            value = UNKNOWN
        before = recorded.get(name)
        out.append(OutputChange(name, before.get("value") if before is not None else None, value,
                                decl.sensitive, before is not None))
    return tuple(out)
