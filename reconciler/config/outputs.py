"""Evaluate `output` blocks, as Terraform does at validate, plan and apply: a failing output is an error.

`evaluate_outputs(decls, scope)` gives every output's value (UNKNOWN where it depends on values known only
after apply) and raises ConfigErrors naming each output that cannot be evaluated, so `validate` and `plan`
report a broken output before anything changes and `apply` does not record null for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.config.decls import OutputDecl
from reconciler.config.evaluator import Scope, evaluate
from reconciler.errors import ConfigError, ConfigErrors


def evaluate_outputs(outputs: Mapping[str, OutputDecl], scope: Scope) -> dict[str, Any]:
    """Each output's value in `scope`; ConfigErrors listing every output that fails."""
    values: dict[str, Any] = {}
    errors: list[ConfigError] = []
    for name, out in sorted(outputs.items()):
        try:
            values[name] = evaluate(out.expr, scope)
        except ConfigErrors as e:
            errors.extend(e.errors)
        except ConfigError as e:
            errors.append(e)
    if errors:
        raise ConfigErrors(errors)
    return values
