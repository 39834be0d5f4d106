"""Evaluate `output` blocks, as Terraform does at validate, plan and apply: a failing output is an error.

`evaluate_outputs(decls, scope)` gives every output's value (UNKNOWN where it depends on values known only
after apply) and raises ConfigErrors naming each output that cannot be evaluated, so `validate` and `plan`
report a broken output before anything changes and `apply` does not record null for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.config.decls import OutputDecl
from reconciler.config.evaluator import Scope, evaluate, evaluate_collecting
from reconciler.config.loader import Configuration
from reconciler.errors import ConfigError, ConfigErrors
from reconciler.values import UNKNOWN


def evaluate_outputs(outputs: Mapping[str, OutputDecl], scope: Scope) -> dict[str, Any]:
    """Each output's value in `scope`; ConfigErrors listing every output that fails."""
    values: dict[str, Any] = {}
    errors: list[ConfigError] = []
    for name, out in sorted(outputs.items()):
        values[name] = evaluate_collecting(out.expr, scope, errors)
    if errors:
        raise ConfigErrors(errors)
    return values


def check_outputs(config: Configuration, variables: Mapping[str, Any]) -> None:
    """Evaluate every output before planning, with every resource's value unknown (as `validate` sees
    them): an output that cannot be evaluated is a ConfigError naming it, before anything changes."""
    from reconciler.config.refs import declaration_graph
    from reconciler.config.scope import ConfigScope

    decls = config.decls
    if not decls.outputs:
        return
    locals_: dict[str, Any] = {}
    resources: dict[str, dict[str, Any]] = {}
    for decl in decls.resources.values():
        resources.setdefault(decl.type, {})[decl.name] = UNKNOWN
    scope = ConfigScope(config.directory, variables, locals_, resources)
    for node in declaration_graph(decls).order():
        if node.startswith("local."):
            try:
                locals_[node[6:]] = evaluate(decls.locals[node[6:]].expr, scope)
            except ConfigError:
                locals_[node[6:]] = UNKNOWN  # the planner reports a broken local itself
    evaluate_outputs(decls.outputs, scope)
