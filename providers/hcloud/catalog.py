"""What is known about Hetzner Cloud server types: size, architecture, monthly price and deprecation per location.

Two sources: the API's `/server_types` answer (read during a refresh) and the dated table bundled in
`prices.json` (used offline; `reconciler providers catalog --refresh` rewrites it from a real account).
A deprecation is the API's per-location `deprecation` object (announced, unavailable_after); the successor
of a deprecated type is our own knowledge (the API does not name one) and is kept across refreshes.
Plain frozen data; no SDK objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

BUNDLED = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class LocationPrice:
    """A server type's price in one location."""
    monthly_net: float
    monthly_gross: float
    hourly_net: float
    hourly_gross: float
    included_traffic: int  # bytes per month
    per_tb_traffic_net: float = 1.0


@dataclass(frozen=True)
class Deprecation:
    """The API's `deprecation` object: announced, and the last day new servers of the type can be made."""

    announced: date
    unavailable_after: date

    def unavailable(self, today: date) -> bool:
        return today > self.unavailable_after

    @classmethod
    def parse(cls, raw: Any) -> Deprecation | None:
        if not isinstance(raw, Mapping) or not raw.get("unavailable_after"):
            return None
        announced = raw.get("announced") or raw["unavailable_after"]
        return cls(_day(announced), _day(raw["unavailable_after"]))

    def as_api(self) -> dict[str, str]:
        return {"announced": f"{self.announced.isoformat()}T00:00:00+00:00",
                "unavailable_after": f"{self.unavailable_after.isoformat()}T00:00:00+00:00"}


def _day(text: Any) -> date:
    value = str(text)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return date.fromisoformat(value[:10])


@dataclass(frozen=True)
class ServerTypeSpec:
    """A Hetzner server type: its size, architecture, prices and deprecations."""
    id: int
    name: str
    cores: int
    memory: float
    disk: int  # GB
    architecture: str  # "x86" | "arm"
    cpu_type: str = "shared"
    category: str = ""
    prices: Mapping[str, LocationPrice] = field(default_factory=dict)  # location name -> price
    deprecations: Mapping[str, Deprecation] = field(default_factory=dict)  # location name -> deprecation
    successor: str | None = None

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(self.prices)

    def orderable(self, location: str, today: date) -> bool:
        dep = self.deprecations.get(location)
        return location in self.prices and (dep is None or not dep.unavailable(today))


@dataclass(frozen=True)
class Catalog:
    """Every server type, with where the figures came from."""
    types: Mapping[str, ServerTypeSpec]
    currency: str
    source: str  # shown with every price: where it came from and when
    locations: tuple[Mapping[str, Any], ...] = ()
    vat_rate: float = 0.0

    def get(self, name: str) -> ServerTypeSpec | None:
        return self.types.get(name)

    def orderable(self, today: date, location: str | None = None) -> list[str]:
        """Names of the types a new server can have (in `location`, or anywhere), sorted."""
        return sorted(n for n, t in self.types.items()
                      if any(t.orderable(loc, today) for loc in ([location] if location else t.locations)))

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
    return from_table(bundled_raw(), "providers/hcloud/prices.json")


def from_table(data: Mapping[str, Any], where: str) -> Catalog:
    """A catalogue from a dated table in the format of `prices.json`."""
    vat = float(data["vat_rate"]) / 100.0
    types = {}
    for t in data["server_types"]:
        prices = {}
        for loc, p in t["prices"].items():
            net = float(p["monthly_net"])
            prices[loc] = LocationPrice(net, round(net * (1 + vat), 4), _hours(net), round(_hours(net) * (1 + vat), 4),
                                        int(p["included_traffic_tb"] * 1024**4))
        deprecations = {loc: d for loc, raw in (t.get("deprecations") or {}).items()
                        if (d := Deprecation.parse(raw)) is not None}
        types[t["name"]] = ServerTypeSpec(int(t["id"]), t["name"], int(t["cores"]), float(t["memory"]), int(t["disk"]),
                                          t["architecture"], t["cpu_type"], t["category"], prices, deprecations,
                                          t.get("successor"))
    return Catalog(types, data["currency"], f"{where} ({data['date']})", tuple(data["locations"]), vat)


def bundled_raw() -> dict[str, Any]:
    """The bundled table as stored (the emulator serves it)."""
    data: dict[str, Any] = json.loads(BUNDLED.read_text())
    return data


def from_api(server_types: Iterable[Mapping[str, Any]], fetched: str) -> Catalog:
    """A catalogue from `/server_types` entries (plain JSON as the API sends it); successors come from the
    bundled table, since the API names none."""
    known = bundled()
    types = {}
    for t in server_types:
        prices = {}
        for p in t.get("prices") or []:
            pm, ph = p["price_monthly"], p["price_hourly"]
            prices[p["location"]] = LocationPrice(float(pm["net"]), float(pm["gross"]), float(ph["net"]),
                                                  float(ph["gross"]), int(p.get("included_traffic") or 0),
                                                  float((p.get("price_per_tb_traffic") or {}).get("net", 1.0)))
        whole = Deprecation.parse(t.get("deprecation"))
        deprecations = {}
        for loc in t.get("locations") or []:
            name = loc.get("name") if isinstance(loc, Mapping) else None
            dep = Deprecation.parse(loc.get("deprecation")) if name else None
            found = dep or whole
            if name and found is not None:
                deprecations[name] = found
        if whole and not t.get("locations"):
            deprecations = {loc: whole for loc in prices}
        old = known.get(t["name"])
        types[t["name"]] = ServerTypeSpec(int(t["id"]), t["name"], int(t["cores"]), float(t["memory"]),
                                          int(t["disk"]), t.get("architecture") or "x86", t.get("cpu_type") or "",
                                          t.get("category") or "", prices, deprecations,
                                          t.get("successor") or (old.successor if old else None))
    return Catalog(types, "EUR", f"api /server_types {fetched}")
