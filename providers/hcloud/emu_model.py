"""The emulator's records (servers, SSH keys, actions), its static catalogue (locations, images, server
types, pricing) and how each renders as the JSON the Hetzner Cloud API sends.

Shapes follow the public API reference (https://docs.hetzner.cloud) closely enough for the official
`hcloud` client to parse every answer; server types, their per-location deprecations and prices come from
the emulator's own `emu_catalog` (not from the provider's tables). A server has no `datacenter` (the API
dropped it on 2026-07-01), only its `location`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from providers.hcloud.emu_catalog import DATE, LOCATIONS, SERVER_TYPES, VAT, EmuType

IMAGES: tuple[tuple[str, str, str], ...] = (  # name, os_flavor, os_version
    ("ubuntu-22.04", "ubuntu", "22.04"),
    ("ubuntu-24.04", "ubuntu", "24.04"),
    ("debian-12", "debian", "12"),
    ("debian-13", "debian", "13"),
    ("fedora-42", "fedora", "42"),
    ("rocky-9", "rocky", "9"),
    ("alma-9", "alma", "9"),
)


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
    return ApiError(422, "invalid_input", f"invalid input in field '{field_name}': {message}",
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
    delete_protected: bool = False


@dataclass
class SshKeyRec:
    id: int
    name: str
    public_key: str
    fingerprint: str
    labels: dict[str, str]
    created: float


class StaticCatalog:
    """Locations, images and server types, rendered once."""

    def __init__(self) -> None:
        self.types: dict[str, EmuType] = {t.name: t for t in SERVER_TYPES}
        self.locations = {str(loc["name"]): dict(loc) for loc in LOCATIONS}
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

    def find_type(self, ref: Any) -> EmuType | None:
        for spec in self.types.values():
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

    @staticmethod
    def prices(spec: EmuType) -> list[dict[str, Any]]:
        out = []
        for loc, net in spec.net.items():
            hourly = round(net / 632.0, 4)
            out.append({"location": loc,
                        "price_hourly": {"net": f"{hourly:.10f}", "gross": f"{hourly * (1 + VAT):.16f}"},
                        "price_monthly": {"net": f"{net:.10f}", "gross": f"{net * (1 + VAT):.16f}"},
                        "included_traffic": int(spec.traffic_tb[loc] * 1024**4),
                        "price_per_tb_traffic": {"net": "1.0000000000", "gross": f"{1 + VAT:.16f}"}})
        return out

    def server_type(self, spec: EmuType, unavailable: dict[str, list[str]], today: date) -> dict[str, Any]:
        def available(loc: str) -> bool:
            blocked = unavailable.get(loc)
            free = blocked is None or (bool(blocked) and spec.name not in blocked and "*" not in blocked)
            return free and spec.orderable(loc, today)

        everywhere = spec.deprecated_in and set(spec.deprecated_in) == set(spec.net)
        return {"id": spec.id, "name": spec.name, "description": spec.name.upper(), "category": spec.category,
                "cores": spec.cores, "memory": spec.memory, "disk": spec.disk,
                "deprecated": bool(everywhere), "deprecation": spec.deprecation(spec.deprecated_in[0])
                if everywhere else None, "prices": self.prices(spec), "storage_type": "local",
                "cpu_type": spec.cpu_type, "architecture": spec.architecture,
                "locations": [{"id": self.locations[loc]["id"], "name": loc, "deprecation": spec.deprecation(loc),
                               "available": available(loc), "recommended": available(loc)} for loc in spec.net]}

    def pricing(self) -> dict[str, Any]:
        return {"currency": "EUR", "vat_rate": f"{VAT * 100:.2f}",
                "server_backup": {"percentage": "20.0000000000"},
                "primary_ips": [], "floating_ips": [],
                "image": {"price_per_gb_month": {"net": "0.0119000000", "gross": "0.0141610000000000"}},
                "server_types": [{"id": s.id, "name": s.name, "prices": self.prices(s)} for s in self.types.values()],
                "date": DATE}


def render_server(s: ServerRec, cat: StaticCatalog, unavailable: dict[str, list[str]], today: date) -> dict[str, Any]:
    spec = cat.find_type(s.server_type)
    assert spec is not None
    ipv4 = ({"id": s.ipv4_id, "ip": s.ipv4, "blocked": False, "dns_ptr": f"static.{s.ipv4}.clients.example"}
            if s.ipv4 else None)
    ipv6 = {"id": s.ipv6_id, "ip": s.ipv6_net, "blocked": False, "dns_ptr": []} if s.ipv6_net else None
    return {
        "id": s.id, "name": s.name, "status": s.status, "created": iso(s.created),
        "public_net": {"ipv4": ipv4, "ipv6": ipv6, "floating_ips": [],
                       "firewalls": [{"id": f, "status": "applied"} for f in s.firewalls]},
        "private_net": [], "server_type": cat.server_type(spec, unavailable, today),
        "location": cat.location(s.location),
        "image": cat.images.get(s.image_id), "iso": None, "rescue_enabled": False, "locked": False,
        "backup_window": s.backup_window, "outgoing_traffic": 0, "ingoing_traffic": 0,
        "included_traffic": int(spec.traffic_tb.get(s.location, 0) * 1024**4),
        "protection": {"delete": s.delete_protected, "rebuild": s.delete_protected}, "labels": dict(s.labels),
        "volumes": [], "load_balancers": [], "primary_disk_size": s.primary_disk_size, "placement_group": None,
    }


def render_ssh_key(k: SshKeyRec) -> dict[str, Any]:
    return {"id": k.id, "name": k.name, "fingerprint": k.fingerprint, "public_key": k.public_key,
            "labels": dict(k.labels), "created": iso(k.created)}
