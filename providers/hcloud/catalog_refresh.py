"""`refresh_catalog(settings, directory)`: rewrite the dated Hetzner Cloud table (`prices.json`) from a real
account: server types with their per-location prices and deprecations (`GET /server_types`), the locations
(`GET /locations`) and the VAT rate (`GET /pricing`).

This is the provider-neutral entry point `reconciler providers catalog --refresh` calls for every provider
package (`providers/<cloud>/catalog_refresh.py`, same name and signature). The successor of a deprecated
type is not in the API: it is kept from the table being replaced (or the bundled one).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.hcloud.catalog import bundled_raw
from providers.hcloud.settings import HcloudSettings

TABLE = "prices.json"
TB = 1024**4


def _successors(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text()) if path.exists() else bundled_raw()
    except (OSError, ValueError):
        data = bundled_raw()
    return {t["name"]: t["successor"] for t in data.get("server_types", []) if t.get("successor")}


def _type_row(t: Mapping[str, Any], successor: str | None) -> dict[str, Any]:
    prices = {p["location"]: {"monthly_net": round(float(p["price_monthly"]["net"]), 4),
                              "included_traffic_tb": round(int(p.get("included_traffic") or 0) / TB, 3)}
              for p in t.get("prices") or []}
    row: dict[str, Any] = {
        "id": t["id"], "name": t["name"], "description": t.get("description") or t["name"].upper(),
        "cores": t["cores"], "memory": float(t["memory"]), "disk": t["disk"], "cpu_type": t.get("cpu_type") or "",
        "architecture": t.get("architecture") or "x86", "storage_type": t.get("storage_type") or "local",
        "category": t.get("category") or "", "prices": prices}
    deprecations = {loc["name"]: loc["deprecation"] for loc in t.get("locations") or [] if loc.get("deprecation")}
    if deprecations:
        row["deprecations"] = deprecations
        if successor:
            row["successor"] = successor
    return row


def table_from_api(server_types: list[dict[str, Any]], locations: list[dict[str, Any]], vat_rate: str,
                   endpoint: str, successors: Mapping[str, str], day: str) -> dict[str, Any]:
    """The dated table, in the format of the bundled `prices.json`."""
    return {
        "date": day, "currency": "EUR", "vat_rate": vat_rate,
        "source": f"GET /server_types, /locations and /pricing of {endpoint} on {day} "
                  "(reconciler providers catalog --refresh); `successor` is ours: the API names none.",
        "note": "Used when the API's /server_types could not be read in this run.",
        "locations": sorted(locations, key=lambda loc: loc["id"]),
        "server_types": [_type_row(t, successors.get(t["name"])) for t in sorted(server_types,
                                                                                key=lambda t: t["id"])],
    }


def _write(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refresh_catalog(settings: Mapping[str, Any], directory: Path) -> list[Path]:
    """Read the catalogue from the account `settings` (the `provider "hcloud"` block, HCLOUD_TOKEN as
    fallback) and rewrite `directory/prices.json`; returns the files written."""
    from providers.hcloud.api import HcloudApi

    resolved = HcloudSettings.from_mapping(settings)
    api = HcloudApi(resolved)
    try:
        types, locations, vat = api.server_types(), api.locations(), api.vat_rate()
    finally:
        api.close()
    path = directory / TABLE
    day = datetime.now(UTC).date().isoformat()
    successors = _successors(path)
    _write(path, table_from_api(types, locations, vat, resolved.endpoint, successors, day))
    return [path]
