"""The plan as Terraform-compatible JSON (`format_version`, `resource_changes[]`), plus `nixos_changes[]`.

Values known only after apply are left out of `change.after` and marked in `change.after_unknown`, as
Terraform does; sensitive values read "(sensitive)". Nothing here depends on file names, line numbers or
the time, so the same fleet written in HCL or in JSON gives the same document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import __version__
from reconciler.actions import Action
from reconciler.config.scope import split_address
from reconciler.plan.model import Plan, ResourceChange
from reconciler.values import UNKNOWN

SENSITIVE = "(sensitive)"
PROVIDERS = {"hcloud": "registry.terraform.io/hetznercloud/hcloud",
             "google": "registry.terraform.io/hashicorp/google", "nixos": "reconciler/nixos"}


def _known(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _known(v) for k, v in value.items() if v is not UNKNOWN}
    if isinstance(value, list):
        return [None if v is UNKNOWN else _known(v) for v in value]
    return value


def _unknown_marks(value: Any) -> Any:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        marks = {k: _unknown_marks(v) for k, v in value.items()}
        return {k: v for k, v in marks.items() if v not in (False, {}, [])}
    if isinstance(value, list):
        return [_unknown_marks(v) for v in value] if any(_unknown_marks(v) for v in value) else []
    return False


def _mask(values: Mapping[str, Any] | None, sensitive: tuple[str, ...]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (SENSITIVE if k in sensitive else v) for k, v in values.items()}


def resource_change(c: ResourceChange) -> dict[str, Any]:
    _, key = split_address(c.address)
    after = _mask(c.after, c.sensitive)
    out: dict[str, Any] = {
        "address": c.address,
        "mode": "managed",
        "type": c.type,
        "name": c.name,
        "provider_name": PROVIDERS.get(c.provider, c.provider),
        "change": {
            "actions": c.action.terraform_actions,
            "before": _mask(c.before, c.sensitive),
            "after": _known(after) if after is not None else None,
            "after_unknown": _unknown_marks(after) if after is not None else {},
            "before_sensitive": {k: True for k in c.sensitive} if c.before is not None else False,
            "after_sensitive": {k: True for k in c.sensitive} if c.after is not None else False,
        },
    }
    if key is not None:
        out["index"] = key
    if c.requires_replace:
        out["change"]["replace_paths"] = [[a] for a in c.requires_replace]
    if c.reason.value:
        out["action_reason"] = c.reason.name.lower()
    if c.action is Action.DORMANT:
        out["dormant"] = {"because": c.dormant_because or c.address, "reason": c.reason.value}
    return out


def nixos_change(c: ResourceChange) -> dict[str, Any]:
    before = (c.before or {}).get("toplevel")
    after = (c.after or {}).get("toplevel")
    return {
        "address": c.address,
        "action": "install" if c.action is Action.INSTALL else "update",
        "reason": c.reason.value,
        "toplevel_before": before,
        "toplevel_after": None if after is UNKNOWN else after,
    }


def render_json(plan: Plan) -> dict[str, Any]:
    n = plan.counts()
    doc: dict[str, Any] = {
        "format_version": "1.2",
        "reconciler_version": __version__,
        "resource_changes": [resource_change(c) for c in plan.changes],
        "nixos_changes": [nixos_change(c) for c in plan.changes if c.action.is_nixos],
        "summary": n,
        "resource_drift": [{"address": d.address, "kind": d.kind, "detail": d.detail} for d in plan.drift],
        "warnings": list(plan.warnings),
        "destroy": plan.destroy,
        "targets": list(plan.targets),
        "variables": {k: {"value": SENSITIVE if k in plan.sensitive_variables else v}
                      for k, v in sorted(plan.variables.items()) if v is not UNKNOWN},
    }
    if plan.cost is not None:
        doc["cost"] = {
            "monthly": [{"currency": line.currency, "before": line.before, "after": line.after,
                         "delta": round(line.delta, 2)} for line in plan.cost.lines],
            "unpriced": list(plan.cost.unpriced),
        }
    return doc
