"""Monthly prices of Compute Engine instances from the dated table in prices.json (machine type per region,
plus GPUs attached with guest_accelerator beyond those a G2/A2 type comes with), and the GPUs each machine
type bundles, which the provider also needs to compare accelerator settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from providers.base import Price

TABLE = Path(__file__).with_name("prices.json")


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text())
    return data


def _region(region: str) -> Mapping[str, Any] | None:
    regions = table()["regions"]
    entry = regions.get(region)
    while entry is not None and "same_as" in entry:
        entry = regions.get(entry["same_as"])
    return entry


def bundled_gpus(machine_type: str) -> dict[str, int]:
    """The GPUs a machine type comes with (G2: nvidia-l4, A2: nvidia-tesla-a100), {} for the others."""
    for entry in table()["regions"].values():
        found = entry.get("machine_types", {}).get(machine_type)
        if found is not None:
            return {str(k): int(v) for k, v in found.get("gpus", {}).items()}
    return {}


def monthly_price(machine_type: str, region_name: str, accelerators: Mapping[str, int]) -> Price | None:
    """None when the region, the machine type or an attached GPU is not in the table."""
    region = _region(region_name)
    if region is None:
        return None
    machine = region.get("machine_types", {}).get(machine_type)
    if machine is None:
        return None
    hourly = float(machine["hourly"])
    bundled = {str(k): int(v) for k, v in machine.get("gpus", {}).items()}
    for gpu, count in accelerators.items():
        extra = count - bundled.get(gpu, 0)
        if extra <= 0:
            continue
        gpu_price = region.get("gpus", {}).get(gpu)
        if gpu_price is None:
            return None
        hourly += extra * float(gpu_price)
    data = table()
    monthly = round(hourly * float(data["hours_per_month"]), 2)
    return Price(monthly, str(data["currency"]), f"providers/google/prices.json ({data['date']})")
