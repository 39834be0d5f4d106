"""Rewrite the google provider's dated catalogue from a real account (`reconciler providers catalog
--refresh`): three aggregated listings (machine types, accelerator types, disk types, 500 to a page) give
the zones, every machine type with its vCPUs, memory and built-in GPUs, the accelerator types with the
zones that offer them, and the disk types. Types the API marks OBSOLETE or DELETED are kept apart, with
their replacement, so a configuration naming one is refused before apply; DEPRECATED ones stay, marked,
and a plan that creates or keeps one says so. The series rules (boot disk
types, N1's GPU counts) are not listed by any API: they are carried over from the current table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.google.catalog import TABLE, dumps

GONE = ("OBSOLETE", "DELETED")


def _short(value: Any) -> str:
    return str(value or "").rstrip("/").rsplit("/", 1)[-1]


def _gone(item: Mapping[str, Any]) -> bool:
    return (item.get("deprecated") or {}).get("state") in GONE


def _retired(item: Mapping[str, Any], today: str) -> dict[str, str]:
    """The API's deprecation status (state, the date it took effect, the replacement) as a table entry."""
    status = item["deprecated"]
    when = status.get(str(status["state"]).lower()) or today
    return {"unavailable_after": str(when)[:10], "successor": _short(status.get("replacement"))}


def _machine_entry(item: Mapping[str, Any]) -> dict[str, Any]:
    name = str(item["name"])
    entry: dict[str, Any] = {"series": name.split("-", 1)[0], "vcpus": int(item.get("guestCpus", 0)),
                             "memory_mb": int(item.get("memoryMb", 0))}
    gpus = {str(a["guestAcceleratorType"]): int(a["guestAcceleratorCount"]) for a in item.get("accelerators") or []}
    if gpus:
        entry["gpus"] = gpus
    if item.get("isSharedCpu"):
        entry["shared_cpu"] = True
    return entry


def build(previous: Mapping[str, Any], machine_types: Mapping[str, list[dict[str, Any]]],
          accelerators: Mapping[str, list[dict[str, Any]]], disk_types: Mapping[str, list[dict[str, Any]]],
          today: str) -> dict[str, Any]:
    """The new table from the three listings (zone -> items), keeping `previous`'s hand-written parts."""
    types: dict[str, dict[str, Any]] = {}
    retired: dict[str, dict[str, str]] = dict(previous.get("retired_accelerator_types") or {})
    retired_types: dict[str, dict[str, str]] = {}
    for items in machine_types.values():
        for item in items:
            if _gone(item):
                retired_types[str(item["name"])] = _retired(item, today)
                continue
            entry = types.setdefault(str(item["name"]), _machine_entry(item))
            if (item.get("deprecated") or {}).get("state") == "DEPRECATED":
                gone = _retired(item, today)
                entry["deprecated"] = {"since": gone["unavailable_after"], "successor": gone["successor"]}
    accs: dict[str, dict[str, Any]] = {}
    for zone, items in accelerators.items():
        for item in items:
            name = str(item["name"])
            if _gone(item):
                retired[name] = _retired(item, today)
                continue
            entry = accs.setdefault(name, {"description": str(item.get("description", name)),
                                           "max_per_instance": int(item.get("maximumCardsPerInstance", 0)),
                                           "zones": []})
            entry["zones"].append(zone)
    for entry in accs.values():
        entry["zones"] = sorted(set(entry["zones"]))
    disks = {str(item["name"]): str(item.get("description", item["name"]))
             for items in disk_types.values() for item in items}
    out = dict(previous)
    out.update(date=today, zones=sorted(set(machine_types) | set(accelerators) | set(disk_types)),
               machine_types=types, accelerator_types=accs, disk_types=disks,
               retired_accelerator_types={k: v for k, v in retired.items() if k not in accs})
    if retired_types:
        out["retired_machine_types"] = retired_types
    return out


def refresh_catalog(settings: Mapping[str, Any], directory: Path) -> list[Path]:
    """Ask the account in `settings` (the evaluated provider "google" block) and write `catalog.json` into
    `directory` (the package's own table when `directory` is its folder); the files written."""
    from providers.google.api import ComputeApi

    api = ComputeApi(settings)
    try:
        listings = {kind: api.aggregated(kind) for kind in ("machine_types", "accelerators", "disk_types")}
    finally:
        api.close()
    target = Path(directory) / TABLE.name
    source = target if target.exists() else TABLE
    previous = json.loads(source.read_text())
    table = build(previous, listings["machine_types"], listings["accelerators"], listings["disk_types"],
                  datetime.now(UTC).date().isoformat())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(dumps(table))
    tmp.replace(target)
    return [target]
