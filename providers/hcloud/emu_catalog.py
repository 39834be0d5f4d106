"""The emulator's own catalogue of Hetzner Cloud locations, server types and their per-location deprecations.

Written from the public API reference and changelog (server types and their `locations[].deprecation`,
2025-10-16: CX Gen2 and CPX Gen1 deprecated, unavailable after 2025-12-31; CPX Gen1 still sold in the US
locations), not imported from the provider's tables, so the provider's plan-time rules and the emulator's
refusals check each other. Prices are net EUR per month (2026-09 list prices), US +15 %, Singapore +33 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

DATE = "2026-09-04"
VAT = 0.19
EU = ("fsn1", "nbg1", "hel1")
US = ("ash", "hil")
ALL = (*EU, *US, "sin")
ANNOUNCED, UNAVAILABLE_AFTER = "2025-10-16T00:00:00+00:00", "2025-12-31T00:00:00+00:00"
LAST_DAY = date.fromisoformat(UNAVAILABLE_AFTER[:10])

LOCATIONS: tuple[dict[str, object], ...] = (
    {"id": 1, "name": "fsn1", "description": "Falkenstein DC Park 1", "country": "DE", "city": "Falkenstein",
     "latitude": 50.47612, "longitude": 12.370071, "network_zone": "eu-central"},
    {"id": 2, "name": "nbg1", "description": "Nuremberg DC Park 1", "country": "DE", "city": "Nuremberg",
     "latitude": 49.452102, "longitude": 11.076665, "network_zone": "eu-central"},
    {"id": 3, "name": "hel1", "description": "Helsinki DC Park 1", "country": "FI", "city": "Helsinki",
     "latitude": 60.169855, "longitude": 24.938379, "network_zone": "eu-central"},
    {"id": 4, "name": "ash", "description": "Ashburn, VA", "country": "US", "city": "Ashburn, VA",
     "latitude": 39.045821, "longitude": -77.487073, "network_zone": "us-east"},
    {"id": 5, "name": "hil", "description": "Hillsboro, OR", "country": "US", "city": "Hillsboro, OR",
     "latitude": 45.54222, "longitude": -122.951924, "network_zone": "us-west"},
    {"id": 6, "name": "sin", "description": "Singapore", "country": "SG", "city": "Singapore",
     "latitude": 1.283333, "longitude": 103.833333, "network_zone": "ap-southeast"},
)


@dataclass(frozen=True)
class EmuType:
    id: int
    name: str
    cores: int
    memory: float
    disk: int
    architecture: str
    cpu_type: str
    category: str
    net: dict[str, float]  # location -> monthly net EUR
    deprecated_in: tuple[str, ...] = ()
    traffic_tb: dict[str, float] = field(default_factory=dict)

    def deprecation(self, location: str) -> dict[str, str] | None:
        return {"announced": ANNOUNCED, "unavailable_after": UNAVAILABLE_AFTER} if location in self.deprecated_in \
            else None

    def orderable(self, location: str, today: date) -> bool:
        return location in self.net and (location not in self.deprecated_in
                                         or today <= LAST_DAY)


def _net(base: float, where: tuple[str, ...]) -> dict[str, float]:
    return {loc: round(base * (1.15 if loc in US else 1.33 if loc == "sin" else 1.0), 2) for loc in where}


# id, name, cores, memory GB, disk GB, architecture, cpu type, category, EU net price, locations, deprecated in
_ROWS: tuple[tuple[int, str, int, int, int, str, str, str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    (120, "cx23", 2, 4, 40, "x86", "shared", "cost_optimized", 5.49, EU, ()),
    (121, "cx33", 4, 8, 80, "x86", "shared", "cost_optimized", 8.49, EU, ()),
    (122, "cx43", 8, 16, 160, "x86", "shared", "cost_optimized", 15.99, EU, ()),
    (123, "cx53", 16, 32, 320, "x86", "shared", "cost_optimized", 29.49, EU, ()),
    (110, "cax11", 2, 4, 40, "arm", "shared", "cost_optimized", 5.99, EU, ()),
    (111, "cax21", 4, 8, 80, "arm", "shared", "cost_optimized", 10.49, EU, ()),
    (112, "cax31", 8, 16, 160, "arm", "shared", "cost_optimized", 20.99, EU, ()),
    (113, "cax41", 16, 32, 320, "arm", "shared", "cost_optimized", 40.99, EU, ()),
    (130, "cpx12", 1, 2, 40, "x86", "shared", "regular_performance", 11.49, (*EU, "sin"), ()),
    (131, "cpx22", 2, 4, 80, "x86", "shared", "regular_performance", 19.49, (*EU, "sin"), ()),
    (132, "cpx32", 4, 8, 160, "x86", "shared", "regular_performance", 37.49, (*EU, "sin"), ()),
    (133, "cpx42", 8, 16, 320, "x86", "shared", "regular_performance", 71.49, (*EU, "sin"), ()),
    (134, "cpx52", 12, 24, 480, "x86", "shared", "regular_performance", 104.99, (*EU, "sin"), ()),
    (135, "cpx62", 16, 32, 640, "x86", "shared", "regular_performance", 139.49, (*EU, "sin"), ()),
    (114, "ccx13", 2, 8, 80, "x86", "dedicated", "general_purpose", 42.99, ALL, ()),
    (115, "ccx23", 4, 16, 160, "x86", "dedicated", "general_purpose", 84.99, ALL, ()),
    (116, "ccx33", 8, 32, 240, "x86", "dedicated", "general_purpose", 168.49, ALL, ()),
    (117, "ccx43", 16, 64, 360, "x86", "dedicated", "general_purpose", 335.99, ALL, ()),
    (118, "ccx53", 32, 128, 600, "x86", "dedicated", "general_purpose", 533.49, ALL, ()),
    (119, "ccx63", 48, 192, 960, "x86", "dedicated", "general_purpose", 799.99, ALL, ()),
    (101, "cx22", 2, 4, 40, "x86", "shared", "cost_optimized", 3.79, EU, EU),
    (102, "cx32", 4, 8, 80, "x86", "shared", "cost_optimized", 6.80, EU, EU),
    (103, "cx42", 8, 16, 160, "x86", "shared", "cost_optimized", 16.40, EU, EU),
    (104, "cx52", 16, 32, 320, "x86", "shared", "cost_optimized", 32.40, EU, EU),
    (105, "cpx11", 2, 2, 40, "x86", "shared", "regular_purpose", 4.35, ALL, (*EU, "sin")),
    (106, "cpx21", 3, 4, 80, "x86", "shared", "regular_purpose", 7.55, ALL, (*EU, "sin")),
    (107, "cpx31", 4, 8, 160, "x86", "shared", "regular_purpose", 13.60, ALL, (*EU, "sin")),
    (108, "cpx41", 8, 16, 240, "x86", "shared", "regular_purpose", 25.20, ALL, (*EU, "sin")),
    (109, "cpx51", 16, 32, 360, "x86", "shared", "regular_purpose", 54.90, ALL, (*EU, "sin")),
)

SERVER_TYPES: tuple[EmuType, ...] = tuple(
    EmuType(i, n, c, float(m), d, a, cpu, cat, _net(p, where), dep,
            {loc: 20.0 if loc in EU else 1.0 if loc in US else 0.5 for loc in where})
    for i, n, c, m, d, a, cpu, cat, p, where, dep in _ROWS)
