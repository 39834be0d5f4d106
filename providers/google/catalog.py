"""The google provider's dated catalogue of Compute Engine (`catalog.json`): machine types with their series,
vCPUs and built-in GPUs, accelerator types and the zones that offer them, disk types, and the rules of
each machine series (which boot disk types it takes and its default, which GPUs attach to N1 and how
many for how many vCPUs). The checks in `rules.py` read it; `catalog_refresh.py` rewrites the parts an
account can list (machine, accelerator and disk types, zones) and keeps the hand-written series rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class MachineType:
    name: str
    series: str
    vcpus: int
    memory_mb: int
    gpus: Mapping[str, int]  # GPUs built into the type (G2, A2, A3)
    shared_cpu: bool = False
    deprecated: tuple[str, str] | None = None  # (since, successor): still offered, going away


@dataclass(frozen=True)
class Series:
    name: str
    default_disk: str
    disks: tuple[str, ...]
    # GPUs that attach with guest_accelerator: type -> {count: the most vCPUs a type may have for that count}
    gpus: Mapping[str, Mapping[int, int]]


@dataclass(frozen=True)
class Retired:
    name: str
    unavailable_after: str
    successor: str


@dataclass(frozen=True)
class Catalog:
    date: str
    zones: frozenset[str]
    machine_types: Mapping[str, MachineType]
    series: Mapping[str, Series]
    accelerators: Mapping[str, frozenset[str]]  # accelerator type -> zones offering it
    accelerator_max: Mapping[str, int]
    retired_accelerators: Mapping[str, Retired]
    disk_types: frozenset[str]
    retired_machine_types: Mapping[str, Retired]

    def series_of(self, machine_type: str) -> Series | None:
        """The series of a listed type, or of a custom type (`n2-custom-4-8192`) by its prefix."""
        known = self.machine_types.get(machine_type)
        if known is not None:
            return self.series.get(known.series)
        return self.series.get(machine_type.split("-", 1)[0]) if "-custom-" in machine_type else None

    def bundled(self, machine_type: str) -> dict[str, int]:
        known = self.machine_types.get(machine_type)
        return dict(known.gpus) if known is not None else {}

    def fixed_gpu_types(self, accelerator: str) -> list[MachineType]:
        """The machine types that come with `accelerator` built in (A2 for A100, G2 for L4, A3 for H100)."""
        return sorted((m for m in self.machine_types.values() if accelerator in m.gpus),
                      key=lambda m: (m.gpus[accelerator], m.vcpus, m.name))


def parse(data: Mapping[str, Any]) -> Catalog:
    types = {name: MachineType(name, str(e["series"]), int(e["vcpus"]), int(e.get("memory_mb", 0)),
                               {str(k): int(v) for k, v in (e.get("gpus") or {}).items()},
                               bool(e.get("shared_cpu", False)),
                               (str(e["deprecated"]["since"]), str(e["deprecated"]["successor"]))
                               if e.get("deprecated") else None)
             for name, e in data["machine_types"].items()}
    series = {name: Series(name, str(e["default_disk"]), tuple(e["disks"]),
                           {g: {int(c): int(v) for c, v in counts.items()}
                            for g, counts in (e.get("gpus") or {}).items()})
              for name, e in data["series"].items()}
    accs = data["accelerator_types"]
    def retired(key: str) -> dict[str, Retired]:
        return {name: Retired(name, str(e["unavailable_after"]), str(e["successor"]))
                for name, e in (data.get(key) or {}).items()}

    return Catalog(str(data["date"]), frozenset(data.get("zones") or ()), types, series,
                   {name: frozenset(e.get("zones") or ()) for name, e in accs.items()},
                   {name: int(e.get("max_per_instance", 0)) for name, e in accs.items()},
                   retired("retired_accelerator_types"), frozenset(data.get("disk_types") or ()),
                   retired("retired_machine_types"))


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return parse(json.loads(TABLE.read_text()))


def dumps(data: Mapping[str, Any]) -> str:
    """The table's text: one line per machine, accelerator and disk type, so a refresh diffs line by line."""
    lines = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        value = data[key]
        comma = "," if i < len(keys) - 1 else ""
        if isinstance(value, dict) and value and key != "about":
            lines.append(f" {json.dumps(key)}: {{")
            items = sorted(value.items())
            for j, (name, entry) in enumerate(items):
                inner = "," if j < len(items) - 1 else ""
                lines.append(f"  {json.dumps(name)}: {json.dumps(entry, sort_keys=True)}{inner}")
            lines.append(f" }}{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
