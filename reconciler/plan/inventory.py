"""The inventory: which machines take which role of which service, with the service settings and every
member's address, as `inventory.json` gives it to the flake; the `after` ordering; and which machines'
view of it changed since the file was last written.

The document grows with the fleet, not its square: each service lists its roles' members once, and each
machine names its address and its roles (format 2, documented in docs/library.md):

    {"format": 2,
     "services": {SERVICE: {"settings": {...}, "roles": {ROLE: [MACHINE, ...]}}},
     "machines": {MACHINE: {"address": "10.0.0.1", "roles": {SERVICE: [ROLE, ...]}}}}

A machine's view is its own roles plus, for every service it takes part in, the settings, the members of
every role and their addresses; "its view changed" is computed from one digest per service, so deciding
it for N machines costs O(N), not O(N * members).
"""

from __future__ import annotations

import hashlib
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
INVENTORY_FORMAT = 2
INVENTORY_FILE = "inventory.json"
UNKNOWN_MARK = "\u0000unknown"

__all__ = ["INVENTORY_FILE", "MACHINE_TYPE", "build_inventory", "changed_views", "machine_name", "members_of",
           "service_digests", "with_addresses", "write_inventory", "written_inventory"]


def build_inventory(decls: Declarations, scope: ConfigScope, values: Mapping[str, Any],
                    changes: Mapping[str, ResourceChange], machine_types: frozenset[str] = frozenset({MACHINE_TYPE}),
                    ) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """(inventory document, `after` edges between machine addresses); the machines are the instances of
    `machine_types` (the types whose kind is MACHINE). Raises ConfigErrors naming the file and line of an
    unknown machine or role."""
    from reconciler.config.evaluator import evaluate

    declared = {machine_name(a): a for a in values if a.split(".", 1)[0] in machine_types}
    # a dormant machine (its VM toggled off) is not running: it is no member of anything until it is back
    asleep = {a for a, c in changes.items() if c.action is Action.DORMANT}
    machines = {n: a for n, a in declared.items() if a not in asleep}
    tagged = _by_tag(machines, values)
    errors: list[ConfigError] = []
    services: dict[str, Any] = {}
    roles_of: dict[str, dict[str, list[str]]] = {name: {} for name in machines}
    edges: set[tuple[str, str]] = set()
    schema = block_schema("inventory_role")
    for svc in decls.services:
        settings = evaluate(svc.settings, scope) if svc.settings is not None else {}
        members: dict[str, list[str]] = {}
        afters: dict[str, list[str]] = {}
        for role in svc.roles:
            attrs = {k: evaluate(v, scope) for k, v in role.attributes.items()}
            where = f'service "{svc.name}" role "{role.name}"'
            errors.extend(schema.check_plain(attrs, role.pos, where))
            pos = role.attributes["machines"].pos if "machines" in role.attributes else role.pos
            chosen: set[str] = set()
            for name in attrs.get("machines") or []:
                if name in machines:
                    chosen.add(name)
                elif name not in declared:
                    errors.append(ConfigError(f'{where}: unknown machine "{name}"', pos,
                                              hint="machines are nixos_machine names: " + _some(declared)))
            for tag in attrs.get("tags") or []:
                chosen.update(machines if tag == "all" else tagged.get(tag, ()))
            members[role.name] = sorted(chosen)
            afters[role.name] = list(attrs.get("after") or [])
        for role_name, after in afters.items():
            for first in after:
                if first not in members:
                    role_pos = next(r for r in svc.roles if r.name == role_name)
                    at = role_pos.attributes["after"].pos if "after" in role_pos.attributes else role_pos.pos
                    errors.append(ConfigError(f'service "{svc.name}" role "{role_name}": after names unknown role '
                                              f'"{first}"', at, hint="roles of this service: " + ", ".join(members)))
                    continue
                edges.update((machines[a], machines[b]) for a in members[first] for b in members[role_name]
                             if a != b)
        services[svc.name] = {"settings": settings, "roles": members}
        for role_name, names in members.items():
            for name in names:
                roles_of[name].setdefault(svc.name, []).append(role_name)
    if errors:
        raise ConfigErrors(errors)
    doc = {
        "format": INVENTORY_FORMAT,
        "services": services,
        "machines": {name: {"address": _address(values.get(machines[name])), "roles": roles_of[name]}
                     for name in sorted(machines)},
    }
    return doc, tuple(sorted(edges))


def _by_tag(machines: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name, address in machines.items():
        tags = (values.get(address) or {}).get("tags") or []
        if isinstance(tags, list):
            for tag in tags:
                if isinstance(tag, str):
                    out.setdefault(tag, set()).add(name)
    return out


def _some(names: Mapping[str, str]) -> str:
    listed = sorted(names)
    return ", ".join(listed[:8]) + (", ..." if len(listed) > 8 else "")


def _address(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("target_host", UNKNOWN)
    return UNKNOWN


def members_of(doc: Mapping[str, Any], service: str) -> set[str]:
    """Every machine that takes some role of `service`."""
    roles = (doc.get("services") or {}).get(service, {}).get("roles", {})
    return {m for names in roles.values() for m in names}


def service_digests(doc: Mapping[str, Any]) -> dict[str, str]:
    """service -> a digest of everything a member of it reads: settings, role members and their addresses.
    An address still unknown makes the digest unknown (UNKNOWN_MARK), which never equals a written one."""
    machines = doc.get("machines") or {}
    out = {}
    for name, svc in sorted((doc.get("services") or {}).items()):
        addresses = {m: (machines.get(m) or {}).get("address") for m in members_of(doc, name)}  # keys sorted by dumps
        body = {"settings": svc.get("settings"), "roles": svc.get("roles"), "addresses": addresses}
        text = json.dumps(body, sort_keys=True, default=_unknown_mark)  # no Python walk over 10,000 members
        out[name] = UNKNOWN_MARK if UNKNOWN_MARK in text else hashlib.sha256(text.encode()).hexdigest()
    return out


def _unknown_mark(value: Any) -> str:
    """json.dumps' hook for what it cannot encode itself: UNKNOWN becomes UNKNOWN_MARK (as to_json_value
    makes it); anything else is refused as json.dumps would."""
    if value is UNKNOWN:
        return UNKNOWN_MARK
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def changed_views(planned: Mapping[str, Any], written: Mapping[str, Any] | None) -> set[str]:
    """Machines whose view of the inventory differs from what inventory.json says now."""
    machines: Mapping[str, Any] = planned.get("machines") or {}
    if written is None or written.get("format") != INVENTORY_FORMAT:
        return {n for n, m in machines.items() if m.get("roles")}
    new, old = service_digests(planned), service_digests(written)
    dirty = {s for s, d in new.items() if d == UNKNOWN_MARK or old.get(s) != d}
    old_machines = written.get("machines") or {}
    out = set()
    for name, entry in machines.items():
        roles = entry.get("roles") or {}
        if any(s in dirty for s in roles) or roles != (old_machines.get(name) or {}).get("roles", {}):
            out.add(name)
    return out


def with_addresses(doc: Mapping[str, Any], addresses: Mapping[str, Any]) -> dict[str, Any]:
    """The document with these machines' addresses set (name -> address)."""
    machines = {n: ({**m, "address": addresses[n]} if n in addresses else m)
                for n, m in (doc.get("machines") or {}).items()}
    return {**doc, "machines": machines}


def written_inventory(directory: Path) -> dict[str, Any] | None:
    """The inventory.json last written, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((directory / INVENTORY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_inventory(directory: Path, inventory: Mapping[str, Any]) -> bool:
    """Write inventory.json (values not yet known are null) if its content changed; whether it did."""
    from reconciler.state.local import atomic_write

    text = json.dumps(to_json_value(dict(inventory), None), indent=1, sort_keys=True) + "\n"
    path = directory / INVENTORY_FILE
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write(path, text, mode=0o644)
    return True
