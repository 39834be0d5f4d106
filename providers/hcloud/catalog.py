"""What is known about Hetzner Cloud server types: size, architecture and monthly price per location.

Two sources: the API's `/server_types` answer (read during a refresh) and the dated table bundled in
`prices.json` (used offline, and by the emulator as its own catalogue). Plain frozen data; no SDK objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

BUNDLED = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class LocationPrice:
    monthly_net: float
    monthly_gross: float
    hourly_net: float
    hourly_gross: float
    included_traffic: int  # bytes per month
    per_tb_traffic_net: float = 1.0


@dataclass(frozen=True)
class ServerTypeSpec:
    id: int
    name: str
    cores: int
    memory: float
    disk: int  # GB
    architecture: str  # "x86" | "arm"
    cpu_type: str = "shared"
    category: str = ""
    prices: Mapping[str, LocationPrice] = field(default_factory=dict)  # location name -> price

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(self.prices)


@dataclass(frozen=True)
class Catalog:
    types: Mapping[str, ServerTypeSpec]
    currency: str
    source: str  # shown with every price: where it came from and when
    locations: tuple[Mapping[str, Any], ...] = ()
    vat_rate: float = 0.0

    def get(self, name: str) -> ServerTypeSpec | None:
        return self.types.get(name)

    def monthly_gross(self, server_type: str, location: str | None) -> float | None:
        spec = self.types.get(server_type)
        if spec is None or not spec.prices:
            return None
        price = spec.prices.get(location) if location else None
        if price is None:
            price = next(iter(spec.prices.values()))
        return price.monthly_gross


def _hours(monthly: float) -> float:
    return round(monthly / 632.0, 4)  # Hetzner caps a month at about 632 billed hours


@cache
def bundled() -> Catalog:
    data = json.loads(BUNDLED.read_text())
    vat = float(data["vat_rate"]) / 100.0
    types = {}
    for t in data["server_types"]:
        prices = {}
        for loc, p in t["prices"].items():
            net = float(p["monthly_net"])
            prices[loc] = LocationPrice(net, round(net * (1 + vat), 4), _hours(net), round(_hours(net) * (1 + vat), 4),
                                        int(p["included_traffic_tb"] * 1024**4))
        types[t["name"]] = ServerTypeSpec(int(t["id"]), t["name"], int(t["cores"]), float(t["memory"]), int(t["disk"]),
                                          t["architecture"], t["cpu_type"], t["category"], prices)
    return Catalog(types, data["currency"], f"providers/hcloud/prices.json ({data['date']})",
                   tuple(data["locations"]), vat)


def bundled_raw() -> dict[str, Any]:
    """The bundled table as stored (the emulator serves it)."""
    data: dict[str, Any] = json.loads(BUNDLED.read_text())
    return data


def from_api(server_types: Iterable[Mapping[str, Any]], fetched: str) -> Catalog:
    """A catalogue from `/server_types` entries (plain JSON as the API sends it)."""
    types = {}
    for t in server_types:
        prices = {}
        for p in t.get("prices") or []:
            pm, ph = p["price_monthly"], p["price_hourly"]
            prices[p["location"]] = LocationPrice(float(pm["net"]), float(pm["gross"]), float(ph["net"]),
                                                  float(ph["gross"]), int(p.get("included_traffic") or 0),
                                                  float((p.get("price_per_tb_traffic") or {}).get("net", 1.0)))
        types[t["name"]] = ServerTypeSpec(int(t["id"]), t["name"], int(t["cores"]), float(t["memory"]),
                                          int(t["disk"]), t.get("architecture") or "x86", t.get("cpu_type") or "",
                                          t.get("category") or "", prices)
    return Catalog(types, "EUR", f"api /server_types {fetched}")
