"""Pure decisions: given what is recorded, what is wanted and what the provider said, which action and why.

The core decides every action; a provider only contributes its planned values and which changed attributes
force a replacement (as in Terraform's providers/provider.go boundary).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from providers.base import InstallState, MachineRecord, PlanResponse, ResourceKind, TypeInfo
from reconciler.actions import Action
from reconciler.reasons import Reason
from reconciler.state.document import ResourceState
from reconciler.values import UNKNOWN

_SKIPPED: dict[tuple[frozenset[str], tuple[str, ...]], frozenset[str]] = {}


def _skipped(info: TypeInfo, ignore: tuple[str, ...]) -> frozenset[str]:
    """The top-level computed attributes and the ignored ones (once per type and ignore list)."""
    key = (info.computed, ignore)
    found = _SKIPPED.get(key)
    if found is None:
        found = _SKIPPED[key] = frozenset({c for c in info.computed if "." not in c} | set(ignore))
    return found


def changed_attributes(planned: Mapping[str, Any], prior: Mapping[str, Any], info: TypeInfo,
                       ignore: Iterable[str]) -> tuple[str, ...]:
    skip = _skipped(info, tuple(ignore))
    # an attribute on one side only compares with None on the other, as planned.get / prior.get give it
    changed = [k for k, v in planned.items() if k not in skip and (v is UNKNOWN or v != prior.get(k))]
    changed += [k for k, v in prior.items() if v is not None and k not in planned and k not in skip]
    return tuple(sorted(changed))


def decide_cloud(prior: ResourceState | None, resp: PlanResponse, info: TypeInfo,
                 ignore: Iterable[str]) -> tuple[Action, Reason, tuple[str, ...], tuple[str, ...]]:
    """(action, reason, changed attributes, attributes forcing replacement) for an active cloud instance."""
    if prior is None or prior.id is None:
        return Action.CREATE, Reason.NEW, (), ()
    if (prior.pending or {}).get("action") == Action.CREATE.value:
        # the object was made, but the create step never finished (waiting for it to be ready, recording it):
        # the provider resumes it from the pending record instead of making another
        return Action.CREATE, Reason.RESUME_CREATE, (), ()
    ignore = tuple(ignore)
    changed = changed_attributes(resp.planned, prior.attributes, info, ignore)
    replace = tuple(a for a in resp.requires_replace if a not in ignore) if resp.requires_replace else ()
    if replace:
        return Action.REPLACE, Reason.REPLACE_ATTRIBUTE, changed, replace
    if changed:
        return Action.UPDATE, Reason.UPDATE_ATTRIBUTE, changed, ()
    return Action.NOOP, Reason.NONE, (), ()


def install_enabled(config: Mapping[str, Any]) -> bool:
    blocks = config.get("install") or []
    if blocks and isinstance(blocks, list) and isinstance(blocks[0], dict):
        return blocks[0].get("enabled", True) is not False
    return True


def decide_machine(record: MachineRecord | None, planned: Mapping[str, Any], config: Mapping[str, Any],
                   host_recreated: bool) -> tuple[Action, Reason]:
    """(action, reason) for an active NixOS machine, from its typed record (None: nothing recorded)."""
    installs = install_enabled(config)
    if installs and host_recreated and record is not None:
        return Action.INSTALL, Reason.INSTALL_HOST_RECREATED
    if installs and (record is None or record.install is not InstallState.DONE):
        partial = record is not None and record.install is InstallState.PARTIAL
        return Action.INSTALL, (Reason.INSTALL_RESUME if partial else Reason.INSTALL_NEW_HOST)
    deployed = record.toplevel if record is not None else None
    wanted = planned.get("toplevel", UNKNOWN)
    if deployed is None:
        return Action.NIXOS_UPDATE, Reason.NIXOS_CHANGED
    if wanted is not UNKNOWN and wanted != deployed:
        return Action.NIXOS_UPDATE, Reason.NIXOS_CHANGED
    if record is not None and record.running is not None and record.running != deployed:
        return Action.NIXOS_UPDATE, Reason.NIXOS_DRIFT
    declared = config.get("host_key")
    if isinstance(declared, str) and declared and record is not None and record.host_key and \
            _key(declared) != _key(record.host_key):
        # on purpose (a re-keyed host) or not (an impostor): the update connects only to a host presenting it
        return Action.NIXOS_UPDATE, Reason.HOST_KEY_CHANGED
    return Action.NOOP, Reason.NONE


def _key(text: str) -> tuple[str, ...]:
    """"TYPE BASE64 [comment]" without the comment."""
    return tuple(text.split()[:2])


def decide_inactive(prior: ResourceState | None, kind: ResourceKind, disabled: bool) -> tuple[Action, Reason]:
    """A disabled instance, or one dormant because something it references is disabled."""
    if kind is ResourceKind.CLOUD and prior is not None and prior.id is not None:
        return Action.DELETE, (Reason.DISABLED if disabled else Reason.DORMANT_UPSTREAM)
    return Action.DORMANT, (Reason.DORMANT_DISABLED if disabled else Reason.DORMANT_UPSTREAM)


_PATHS: dict[frozenset[str], tuple[list[str], ...]] = {}


def _paths(computed: frozenset[str]) -> tuple[list[str], ...]:
    """The computed attributes as split paths (once per type, not per instance)."""
    found = _PATHS.get(computed)
    if found is None:
        found = _PATHS[computed] = tuple(name.split(".") for name in computed)
    return found


def with_unknown_computed(values: Mapping[str, Any], info: TypeInfo) -> dict[str, Any]:
    """`values` with every computed attribute UNKNOWN; nested ones are paths like `a.*.b` (`*`: each element)."""
    out = dict(values)
    for path in _paths(info.computed):
        set_unknown(out, path)
    return out


def fill_unknown_computed(values: Mapping[str, Any], info: TypeInfo) -> dict[str, Any]:
    """`values` with every computed attribute the provider did not plan set to UNKNOWN."""
    out = dict(values)
    for path in _paths(info.computed):
        if len(path) == 1:  # the common case, inline
            if path[0] not in out:
                out[path[0]] = UNKNOWN
        else:
            set_unknown(out, path, only_missing=True)
    return out


def set_unknown(target: Any, path: list[str], only_missing: bool = False) -> None:
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(target, list):
            for item in target:
                set_unknown(item, rest, only_missing)
        return
    if not isinstance(target, dict):
        return
    if not rest:
        if not only_missing or head not in target:
            target[head] = UNKNOWN
        return
    child = target.get(head)
    if isinstance(child, list):
        target[head] = child = [dict(x) if isinstance(x, dict) else x for x in child]
    elif isinstance(child, dict):
        target[head] = child = dict(child)
    set_unknown(child, rest, only_missing)
