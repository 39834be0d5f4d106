"""The emulator's records (servers, SSH keys, actions), its static catalogue (locations, datacenters, images,
server types, pricing) and how each renders as the JSON the Hetzner Cloud API sends.

Shapes follow the public API reference (https://docs.hetzner.cloud) closely enough for the official
`hcloud` client to parse every answer; prices and server types come from the bundled `prices.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from providers.hcloud.catalog import Catalog, ServerTypeSpec, bundled

IMAGES: tuple[tuple[str, str, str], ...] = (  # name, os_flavor, os_version
    ("ubuntu-22.04", "ubuntu", "22.04"),
    ("ubuntu-24.04", "ubuntu", "24.04"),
    ("debian-12", "debian", "12"),
    ("debian-13", "debian", "13"),
    ("fedora-42", "fedora", "42"),
    ("rocky-9", "rocky", "9"),
    ("alma-9", "alma", "9"),
)
DATACENTER_NUMBER = {"fsn1": 14, "nbg1": 3, "hel1": 2, "ash": 1, "hil": 1, "sin": 1}


class ApiError(Exception):
    """An API error answer: HTTP status, machine-readable code, message and optional details."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def invalid_input(field_name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_input", f"invalid input in field '{field_name}': {message}",
                    {"fields": [{"name": field_name, "messages": [message]}]})


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@dataclass
class ActionRec:
    id: int
    command: str
    resources: list[dict[str, Any]]
    started: float  # emulated time
    finishes: float  # emulated time
    fail: bool = False
    status: str = "running"
    error: dict[str, str] | None = None

    def render(self, now: float) -> dict[str, Any]:
        span = max(self.finishes - self.started, 1e-9)
        progress = 100 if self.status != "running" else max(0, min(99, int((now - self.started) / span * 100)))
        return {"id": self.id, "command": self.command, "status": self.status, "progress": progress,
                "started": iso(self.started), "finished": iso(self.finishes) if self.status != "running" else None,
                "resources": self.resources, "error": self.error}


@dataclass
class ServerRec:
    id: int
    name: str
    server_type: str
    location: str
    image_id: int
    created: float
    labels: dict[str, str]
    ipv4: str | None
    ipv6_net: str | None
    primary_disk_size: int
    status: str = "initializing"
    backup_window: str | None = None
    firewalls: list[int] = field(default_factory=list)
    ssh_keys: list[int] = field(default_factory=list)
    user_data: str | None = None
    ipv4_id: int = 0
    ipv6_id: int = 0


@dataclass
class SshKeyRec:
    id: int
    name: str
    public_key: str
    fingerprint: str
    labels: dict[str, str]
    created: float


class StaticCatalog:
    """Locations, datacenters, images and server types, rendered once."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or bundled()
        self.locations = {loc["name"]: dict(loc) for loc in self.catalog.locations}
        self.images: dict[int, dict[str, Any]] = {}
        next_id = 1000
        for arch in ("x86", "arm"):
            for name, flavor, version in IMAGES:
                next_id += 1
                self.images[next_id] = {
                    "id": next_id, "type": "system", "status": "available", "name": name,
                    "description": f"{flavor.capitalize()} {version}", "image_size": None, "disk_size": 5,
                    "created": "2024-01-01T00:00:00+00:00", "created_from": None, "bound_to": None,
                    "os_flavor": flavor, "os_version": version, "rapid_deploy": True,
                    "protection": {"delete": False}, "deprecated": None, "deleted": None, "labels": {},
                    "architecture": arch}

    def location(self, name: str) -> dict[str, Any]:
        return self.locations[name]

    def datacenter(self, location: str) -> dict[str, Any]:
        n = DATACENTER_NUMBER.get(location, 1)
        return {"id": 100 + self.locations[location]["id"], "name": f"{location}-dc{n}",
                "description": f"{self.locations[location]['city']} DC {n}", "location": self.location(location)}

    def find_type(self, ref: Any) -> ServerTypeSpec | None:
        for spec in self.catalog.types.values():
            if str(ref) in (spec.name, str(spec.id)):
                return spec
        return None

    def find_image(self, ref: Any, architecture: str) -> dict[str, Any] | None:
        for image in self.images.values():
            if str(ref) == str(image["id"]):
                return image
        for image in self.images.values():
            if image["name"] == ref and image["architecture"] == architecture:
                return image
        return None

    def prices(self, spec: ServerTypeSpec) -> list[dict[str, Any]]:
        out = []
        for loc, p in spec.prices.items():
            out.append({"location": loc,
                        "price_hourly": {"net": f"{p.hourly_net:.10f}", "gross": f"{p.hourly_gross:.16f}"},
                        "price_monthly": {"net": f"{p.monthly_net:.10f}", "gross": f"{p.monthly_gross:.16f}"},
                        "included_traffic": p.included_traffic,
                        "price_per_tb_traffic": {"net": f"{p.per_tb_traffic_net:.10f}",
                                                 "gross": f"{p.per_tb_traffic_net * 1.19:.16f}"}})
        return out

    def server_type(self, spec: ServerTypeSpec, unavailable: dict[str, list[str]]) -> dict[str, Any]:
        def available(loc: str) -> bool:
            blocked = unavailable.get(loc)
            return blocked is None or (bool(blocked) and spec.name not in blocked and "*" not in blocked)

        return {"id": spec.id, "name": spec.name, "description": spec.name.upper(), "category": spec.category,
                "cores": spec.cores, "memory": spec.memory, "disk": spec.disk, "deprecated": False,
                "deprecation": None, "prices": self.prices(spec), "storage_type": "local",
                "cpu_type": spec.cpu_type, "architecture": spec.architecture,
                "locations": [{"id": self.locations[loc]["id"], "name": loc, "deprecation": None,
                               "available": available(loc), "recommended": available(loc)} for loc in spec.prices]}

    def pricing(self) -> dict[str, Any]:
        vat = self.catalog.vat_rate
        return {"currency": self.catalog.currency, "vat_rate": f"{vat * 100:.2f}",
                "server_backup": {"percentage": "20.0000000000"},
                "primary_ips": [], "floating_ips": [],
                "image": {"price_per_gb_month": {"net": "0.0119000000", "gross": "0.0141610000000000"}},
                "server_types": [{"id": s.id, "name": s.name, "prices": self.prices(s)}
                                 for s in self.catalog.types.values()]}


def render_server(s: ServerRec, cat: StaticCatalog, unavailable: dict[str, list[str]]) -> dict[str, Any]:
    spec = cat.find_type(s.server_type)
    assert spec is not None
    ipv4 = ({"id": s.ipv4_id, "ip": s.ipv4, "blocked": False, "dns_ptr": f"static.{s.ipv4}.clients.example"}
            if s.ipv4 else None)
    ipv6 = {"id": s.ipv6_id, "ip": s.ipv6_net, "blocked": False, "dns_ptr": []} if s.ipv6_net else None
    return {
        "id": s.id, "name": s.name, "status": s.status, "created": iso(s.created),
        "public_net": {"ipv4": ipv4, "ipv6": ipv6, "floating_ips": [],
                       "firewalls": [{"id": f, "status": "applied"} for f in s.firewalls]},
        "private_net": [], "server_type": cat.server_type(spec, unavailable),
        "datacenter": cat.datacenter(s.location), "location": cat.location(s.location),
        "image": cat.images.get(s.image_id), "iso": None, "rescue_enabled": False, "locked": False,
        "backup_window": s.backup_window, "outgoing_traffic": 0, "ingoing_traffic": 0,
        "included_traffic": spec.prices[s.location].included_traffic if s.location in spec.prices else 0,
        "protection": {"delete": False, "rebuild": False}, "labels": dict(s.labels), "volumes": [],
        "load_balancers": [], "primary_disk_size": s.primary_disk_size, "placement_group": None,
    }


def render_ssh_key(k: SshKeyRec) -> dict[str, Any]:
    return {"id": k.id, "name": k.name, "fingerprint": k.fingerprint, "public_key": k.public_key,
            "labels": dict(k.labels), "created": iso(k.created)}
