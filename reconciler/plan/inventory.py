"""The inventory: which machines take which role of which service, with the service settings and the
addresses of the other members, as `inventory.json` gives it to the flake; and the `after` ordering."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.actions import Action
from reconciler.config.decls import Declarations
from reconciler.config.schema import block_schema
from reconciler.config.scope import ConfigScope, machine_name
from reconciler.errors import ConfigError, ConfigErrors
from reconciler.plan.model import ResourceChange
from reconciler.values import UNKNOWN, to_json_value

MACHINE_TYPE = "nixos_machine"


def build_inventory(decls: Declarations, scope: ConfigScope, values: Mapping[str, Any],
                    changes: Mapping[str, ResourceChange]) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """(inventory document, `after` edges between machine addresses)."""
    from reconciler.config.evaluator import evaluate

    declared = {machine_name(a): a for a in values if a.startswith(MACHINE_TYPE + ".")}
    # a dormant machine (its VM toggled off) is not running: it is no member of anything until it is back
    asleep = {a for a, c in changes.items() if c.action is Action.DORMANT}
    machines = {n: a for n, a in declared.items() if a not in asleep}
    errors: list[ConfigError] = []
    doc: dict[str, Any] = {name: {"services": {}} for name in sorted(machines)}
    edges: list[tuple[str, str]] = []
    schema = block_schema("inventory_role")
    for svc in decls.services:
        settings = evaluate(svc.settings, scope) if svc.settings is not None else {}
        members: dict[str, list[str]] = {}
        afters: dict[str, list[str]] = {}
        for role in svc.roles:
            attrs = {k: evaluate(v, scope) for k, v in role.attributes.items()}
            errors.extend(schema.check_plain(attrs, role.pos, f'service "{svc.name}" role "{role.name}"'))
            chosen: list[str] = []
            for name in attrs.get("machines") or []:
                if name in declared and name not in machines:
                    continue
                if name not in machines:
                    errors.append(ConfigError(f'service "{svc.name}" role "{role.name}": unknown machine "{name}"',
                                              role.pos, hint="machines are nixos_machine names"))
                else:
                    chosen.append(name)
            for tag in attrs.get("tags") or []:
                for name, address in machines.items():
                    tags = (values.get(address) or {}).get("tags") or []
                    if tag == "all" or (isinstance(tags, list) and tag in tags):
                        chosen.append(name)
            members[role.name] = sorted(set(chosen))
            afters[role.name] = list(attrs.get("after") or [])
        for role_name, after in afters.items():
            for first in after:
                if first not in members:
                    errors.append(ConfigError(f'service "{svc.name}" role "{role_name}": after names unknown role '
                                              f'"{first}"', svc.pos))
                    continue
                edges.extend((machines[a], machines[b]) for a in members[first] for b in members[role_name]
                             if a != b)
        for role_name, names in members.items():
            for name in names:
                entry = doc[name]["services"].setdefault(svc.name, {"roles": [], "settings": settings,
                                                                    "members": {}})
                entry["roles"].append(role_name)
                entry["members"] = {
                    r: [{"name": m, "address": _address(values.get(machines[m]))} for m in ms]
                    for r, ms in members.items()}
    if errors:
        raise ConfigErrors(errors)
    return doc, tuple(sorted(set(edges)))


def written_inventory(directory: Path) -> dict[str, Any] | None:
    """The machines of the inventory.json last written, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((directory / "inventory.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    machines = data.get("machines") if isinstance(data, dict) else None
    return machines if isinstance(machines, dict) else None


def inventory_changes(planned: Mapping[str, Any], written: Mapping[str, Any] | None) -> set[str]:
    """Machines whose entry differs from what inventory.json says now (an address still unknown counts)."""
    out = set()
    for name, entry in planned.items():
        new = to_json_value(entry, UNKNOWN_MARK)
        if written is None or new != written.get(name) or UNKNOWN_MARK in json.dumps(new):
            out.add(name)
    return out


UNKNOWN_MARK = "\u0000unknown"


def _address(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("target_host", UNKNOWN)
    return UNKNOWN


def write_inventory(directory: Path, inventory: Mapping[str, Any]) -> None:
    """Write inventory.json (values not yet known are null) if its content changed."""
    from reconciler.state.local import atomic_write

    text = json.dumps({"machines": to_json_value(inventory, None)}, indent=2, sort_keys=True) + "\n"
    path = directory / "inventory.json"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    atomic_write(path, text, mode=0o644)
