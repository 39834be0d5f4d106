"""The plan as Terraform's plan representation (format 1.2, the document `terraform show -json PLANFILE`
writes), so that policy tools read it as they read Terraform's; our own detail stays under keys of our own
(`reconciler_version`, `nixos_changes`, `summary`, `cost`, `dormant`, `warnings`, `destroy`, `targets`).

A NixOS install or update is a resource change of its `nixos_machine` (see `machine_actions`), with the
deployed `toplevel` and `host_key` in `before`/`after`. Values known only after apply are left out of
`after` and marked in `after_unknown`; sensitive values read "(sensitive value)" and are marked in
`*_sensitive` (Terraform writes them in clear; we never do). Nothing but `timestamp` depends on the time,
file names or line numbers, so the same fleet written in HCL or in JSON gives the same document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler import __version__
from reconciler.actions import Action
from reconciler.config.scope import split_address
from reconciler.plan.configuration import provider_full_name
from reconciler.plan.drift import Drift
from reconciler.plan.model import OutputChange, Plan, ResourceChange
from reconciler.reasons import Reason
from reconciler.state.document import StateDoc
from reconciler.values import UNKNOWN, is_known

FORMAT_VERSION = "1.2"
STATE_FORMAT_VERSION = "1.0"
TERRAFORM_VERSION = "1.15.5"  # the Terraform release whose plan representation this document follows
SENSITIVE = "(sensitive value)"

# Terraform's action_reason enum, where Terraform sets one (plans.ResourceInstanceChangeActionReason)
_REASONS = {
    Reason.REPLACE_ATTRIBUTE: "replace_because_cannot_update",
    Reason.TAINTED: "replace_because_tainted",
    Reason.NO_CONFIG: "delete_because_no_resource_config",
}


def _known(value: Any) -> Any:
    """`value` without what is known only after apply (list elements become null, as in Terraform)."""
    t = type(value)
    if t is dict:
        return {k: _known(v) for k, v in value.items() if v is not UNKNOWN}
    if t is list or t is tuple:
        return [None if v is UNKNOWN else _known(v) for v in value]
    return value


# Terraform's `after_unknown` and `*_sensitive` (unknownAsBool, SensitiveAsBool): the value's structure with a
# bool at each leaf; objects leave out their false members, lists keep one mark per element.
def _unknown_marks(value: Any, unknown: bool = True) -> Any:
    if value is UNKNOWN:
        return unknown
    t = type(value)
    if t is dict:
        out = {}
        for k, v in value.items():
            mark = _unknown_marks(v, unknown)
            if mark is not False:
                out[k] = mark
        return out
    if t is list or t is tuple:
        return [_unknown_marks(v, unknown) for v in value]
    return False


def _shape(value: Any) -> Any:
    """The marks of a value with nothing sensitive in it."""
    return _unknown_marks(value, unknown=False)


def _sensitive_marks(values: Mapping[str, Any] | None, sensitive: tuple[str, ...]) -> Any:
    if values is None:
        return False
    out: dict[str, Any] = {}
    for k, v in values.items():
        mark = True if k in sensitive else _shape(v)
        if mark is not False:
            out[k] = mark
    return out


def _mask(values: Mapping[str, Any] | None, sensitive: tuple[str, ...]) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: (SENSITIVE if k in sensitive and v is not UNKNOWN else v) for k, v in values.items()}


def value_type(value: Any) -> Any:
    """The type of a known value as Terraform's JSON writes types (`"string"`, `["object", {...}]`)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return ["object", {k: value_type(v) for k, v in value.items()}]
    if isinstance(value, (list, tuple)):
        return ["tuple", [value_type(v) for v in value]]
    return "dynamic"


def machine_actions(c: ResourceChange) -> tuple[list[str], str | None]:
    """Terraform actions and action_reason of a change; NixOS work is a change of its `nixos_machine`:
    an install on a new machine is `create`, a reinstall (its VM recreated, or an install that stopped
    before it finished) is `["delete","create"]`, an update of the system is `update`."""
    if c.action is Action.INSTALL:
        if c.before is None:
            return ["create"], None
        if c.reason is Reason.INSTALL_HOST_RECREATED:
            return ["delete", "create"], "replace_by_triggers"
        return ["delete", "create"], "replace_because_tainted"
    if c.action is Action.NIXOS_UPDATE:  # a machine never recorded (install disabled) is new to the state
        return (["update"] if c.before is not None else ["create"]), None
    if c.action is Action.REPLACE and c.create_before_destroy:
        return ["create", "delete"], _action_reason(c)
    return c.action.terraform_actions, _action_reason(c)


def _action_reason(c: ResourceChange) -> str | None:
    if c.reason is Reason.COUNT_ZERO:
        _, key = split_address(c.address)
        if key is None:
            return "delete_because_wrong_repetition"
        return "delete_because_count_index" if isinstance(key, int) else "delete_because_each_key"
    if c.action in (Action.DELETE, Action.REPLACE):
        return _REASONS.get(c.reason)
    return None


def _identity(address: str, type_: str, provider: str) -> dict[str, Any]:
    base, key = split_address(address)
    out: dict[str, Any] = {"address": address, "mode": "managed", "type": type_, "name": base.split(".", 1)[1]}
    if key is not None:
        out["index"] = key
    out["provider_name"] = provider_full_name(provider)
    return out


def _change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, actions: list[str],
            sensitive: tuple[str, ...] = ()) -> dict[str, Any]:
    masked = _mask(after, sensitive)
    return {
        "actions": actions,
        "before": _known(_mask(before, sensitive)),
        "after": _known(masked) if masked is not None else None,
        "after_unknown": _unknown_marks(masked) if masked is not None else {},
        "before_sensitive": _sensitive_marks(before, sensitive),
        "after_sensitive": _sensitive_marks(after, sensitive),
    }


def resource_change(c: ResourceChange) -> dict[str, Any]:
    actions, reason = machine_actions(c)
    after = c.before if c.action is Action.DORMANT else None if c.action is Action.DELETE else c.after
    out = _identity(c.address, c.type, c.provider)
    out["change"] = _change(c.before, after, actions, c.sensitive)
    if c.requires_replace:
        out["change"]["replace_paths"] = [[a] for a in c.requires_replace]
    if reason is not None:
        out["action_reason"] = reason
    return out


def drift_change(d: Drift) -> dict[str, Any]:
    """What a refresh found changed outside reconciler, as Terraform's resource_drift writes it."""
    actions = {"deleted": ["delete"], "adopted": ["create"]}.get(d.kind, ["update"])
    out = _identity(d.address, d.type or d.address.split(".", 1)[0], (d.type or d.address).split("_", 1)[0])
    out["change"] = _change(d.before, d.after, actions)
    return out


def _value_resource(address: str, type_: str, provider: str, values: Mapping[str, Any] | None,
                    sensitive: tuple[str, ...]) -> dict[str, Any]:
    out = _identity(address, type_, provider)
    out["schema_version"] = 0
    out["values"] = _known(_mask(values or {}, sensitive))
    out["sensitive_values"] = _sensitive_marks(values, sensitive)
    return out


def _output_value(o: OutputChange, value: Any) -> dict[str, Any]:
    """An output in a value tree; one known only after apply says only whether it is sensitive."""
    if not is_known(value):
        return {"sensitive": o.sensitive}
    if o.sensitive:
        return {"sensitive": True, "type": "string", "value": SENSITIVE}
    return {"sensitive": False, "type": value_type(value), "value": value}


def _listed(c: ResourceChange) -> bool:
    """A dormant resource that was never created is in no Terraform document (as with count = 0); it is
    listed under our own `dormant` key."""
    return not (c.action is Action.DORMANT and c.before is None)


def planned_values(plan: Plan) -> dict[str, Any]:
    resources = [_value_resource(c.address, c.type, c.provider, c.before if c.action is Action.DORMANT else c.after,
                                 c.sensitive) for c in plan.changes
                 if _listed(c) and c.action is not Action.DELETE and (c.after is not None or c.before is not None)]
    outputs = {o.name: _output_value(o, o.after) for o in plan.outputs}
    return {"outputs": outputs, "root_module": {"resources": resources}}


def prior_state(plan: Plan) -> dict[str, Any]:
    """The state the plan was made from, refreshed; a refresh-only plan has no changes to take it from."""
    if plan.refresh_only and plan.refreshed_state is not None:
        return state_json(StateDoc.loads_json(plan.refreshed_state))
    resources = [_value_resource(c.address, c.type, c.provider, c.before, c.sensitive) for c in plan.changes
                 if c.before is not None]
    outputs = {o.name: _output_value(o, o.before) for o in plan.outputs if o.recorded}
    return {"format_version": STATE_FORMAT_VERSION, "terraform_version": TERRAFORM_VERSION,
            "values": {"outputs": outputs, "root_module": {"resources": resources}}}


def state_json(doc: StateDoc) -> dict[str, Any]:
    """The recorded state as Terraform's state representation (`terraform show -json` without a plan)."""
    resources = []
    for address in sorted(doc.resources):
        res = doc.resources[address]
        resources.append(_value_resource(address, res.type, res.type.split("_", 1)[0], dict(res.attributes), ()))
    outputs = {name: _output_value(OutputChange(name, o.get("value"), o.get("value"), bool(o.get("sensitive"))),
                                   o.get("value")) for name, o in sorted(doc.outputs.items())}
    return {"format_version": STATE_FORMAT_VERSION, "terraform_version": TERRAFORM_VERSION,
            "values": {"outputs": outputs, "root_module": {"resources": resources}}}


def output_changes(plan: Plan) -> dict[str, Any]:
    """Each output's change; a value known only after apply has no `after` (Terraform leaves it out)."""
    out = {}
    for o in plan.outputs:
        if not o.recorded:
            actions = ["create"]
        elif is_known(o.after) and o.after == o.before:
            actions = ["no-op"]
        else:
            actions = ["update"]
        change: dict[str, Any] = {"actions": actions,
                                  "before": (SENSITIVE if o.sensitive else o.before) if o.recorded else None}
        if o.after is not UNKNOWN:
            change["after"] = SENSITIVE if o.sensitive else _known(o.after)
        change["after_unknown"] = _unknown_marks(o.after) if not is_known(o.after) else False
        change["before_sensitive"] = change["after_sensitive"] = o.sensitive
        out[o.name] = change
    return out


_RESOURCE_REF = re.compile(r'^([a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(?:\[(?:"(?:[^"\\]|\\.)*"|\d+)\])?)'
                           r"\.([A-Za-z_][A-Za-z0-9_-]*)")


def relevant_attributes(plan: Plan) -> list[dict[str, Any]]:
    """Attributes of drifted resource instances that the configuration references, as Terraform lists them
    (`{"resource": "hcloud_server.web[\"a\"]", "attribute": ["ipv4_address"]}`)."""
    drifted = {d.address for d in plan.drift}
    if not drifted:
        return []
    seen: dict[tuple[str, str], None] = {}
    for res in plan.configuration.get("root_module", {}).get("resources", []):
        for expr in _expression_objects(res.get("expressions", {})):
            for ref in expr.get("references", []):
                found = _RESOURCE_REF.match(ref)
                if found is not None and found.group(1) in drifted:
                    seen[(found.group(1), found.group(2))] = None
    return [{"resource": r, "attribute": [a]} for r, a in sorted(seen)]


def _expression_objects(exprs: Any) -> list[dict[str, Any]]:
    if isinstance(exprs, list):
        return [e for item in exprs for e in _expression_objects(item)]
    if isinstance(exprs, dict):
        if "references" in exprs or "constant_value" in exprs or not exprs:
            return [exprs]
        return [e for v in exprs.values() for e in _expression_objects(v)]
    return []


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


def _timestamp(created: str) -> str:
    return created.replace("+00:00", "Z") if created else ""


def render_json(plan: Plan) -> dict[str, Any]:
    """Terraform's plan representation of `plan`, plus our own keys."""
    changes = [] if plan.refresh_only else [resource_change(c) for c in plan.changes if _listed(c)]
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "variables": {k: {"value": SENSITIVE if k in plan.sensitive_variables else _known(v)}
                      for k, v in sorted(plan.variables.items()) if v is not UNKNOWN},
        "planned_values": planned_values(plan),
        "resource_drift": [drift_change(d) for d in plan.drift],
        "resource_changes": changes,
        "output_changes": {} if plan.refresh_only else output_changes(plan),
    }
    if plan.state_exists:
        doc["prior_state"] = prior_state(plan)
    doc["configuration"] = dict(plan.configuration)
    doc["relevant_attributes"] = relevant_attributes(plan)
    doc["timestamp"] = _timestamp(plan.created)
    doc["applyable"] = plan.has_changes or bool(plan.refresh_only and plan.drift)
    doc["complete"] = not plan.targets
    doc["errored"] = False
    doc["reconciler_version"] = __version__
    doc["nixos_changes"] = [nixos_change(c) for c in plan.changes if c.action.is_nixos]
    doc["summary"] = plan.counts()
    doc["dormant"] = [{"address": c.address, "because": c.dormant_because or c.address, "reason": c.reason.value}
                      for c in plan.changes if c.action is Action.DORMANT]
    doc["warnings"] = list(plan.warnings)
    doc["destroy"] = plan.destroy
    doc["targets"] = list(plan.targets)
    if plan.cost is not None:
        doc["cost"] = {
            "monthly": [{"currency": line.currency, "before": line.before, "after": line.after,
                         "delta": round(line.delta, 2)} for line in plan.cost.lines],
            "unpriced": list(plan.cost.unpriced),
        }
    return doc
