"""`hcloud_server` attributes: the planned values for a configuration (defaults filled in, computed ones
carried or unknown), which changes force a replacement and why, and the attributes of a server as the API
shows it, completed from a basis (the prior state or the configuration) for what the API cannot show.

The API cannot show `ssh_keys` and `user_data` (they only matter at creation). A server adopted after a
crash carries a label with a digest of them, so its plan can tell "created from this configuration"
(record the configured values) from "created from something else" (replace).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from providers.base import LABEL_ADDRESS, LABEL_LINEAGE, LABEL_MANAGED_BY, PlanRequest, PlanResponse
from providers.hcloud import type_rules
from providers.hcloud.addresses import ipv6_first
from providers.hcloud.catalog import Catalog
from reconciler.errors import ProviderError
from reconciler.values import UNKNOWN, is_known

if TYPE_CHECKING:
    from providers.hcloud.views import ServerView

SERVER, SSH_KEY = "hcloud_server", "hcloud_ssh_key"  # the resource types
LABEL_INPUTS = "reconciler-inputs"
OWN_LABELS = frozenset({LABEL_MANAGED_BY, LABEL_LINEAGE, LABEL_ADDRESS, LABEL_INPUTS})
COMPUTED = ("id", "ipv4_address", "ipv6_address", "status")
UNREADABLE = ("ssh_keys", "user_data")
DEFAULT_PUBLIC_NET: list[dict[str, bool]] = [{"ipv4_enabled": True, "ipv6_enabled": True}]


def _get(cfg: Mapping[str, Any], key: str, default: Any) -> Any:
    value = cfg.get(key)
    return default if value is None else value


def inputs_digest(ssh_keys: Any, user_data: Any) -> str:
    data = json.dumps({"ssh_keys": [str(k) for k in ssh_keys or []], "user_data": user_data or ""}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def net_flags(public_net: Any) -> tuple[bool, bool]:
    block = public_net[0] if isinstance(public_net, list) and public_net and isinstance(public_net[0], dict) else {}
    return block.get("ipv4_enabled", True) is not False, block.get("ipv6_enabled", True) is not False


def candidates(cfg: Mapping[str, Any]) -> list[str]:
    """Locations to try, in order; empty means "let Hetzner choose"."""
    out: list[str] = []
    if cfg.get("location") is not None:
        out.append(cfg["location"])
    for loc in cfg.get("locations") or []:
        if loc not in out:
            out.append(loc)
    return out


def user_labels(labels: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k not in OWN_LABELS}


def check_labels(address: str, labels: Any) -> None:
    """Refuse labels this provider sets itself (they would be overwritten and show as a diff forever)."""
    if isinstance(labels, Mapping):
        taken = sorted(OWN_LABELS & set(labels))
        if taken:
            raise ProviderError(f"{address}: the labels {', '.join(taken)} are reserved for reconciler's "
                                "ownership labels", hint="rename these labels", code="invalid_config")


def configured(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration with every default filled in (values exactly as written where given)."""
    out = dict(cfg)
    out["ssh_keys"] = _get(cfg, "ssh_keys", [])
    out["labels"] = _get(cfg, "labels", {})
    out["user_data"] = cfg.get("user_data")
    out["firewall_ids"] = _get(cfg, "firewall_ids", [])
    out["backups"] = _get(cfg, "backups", False)
    out["public_net"] = _get(cfg, "public_net", DEFAULT_PUBLIC_NET)
    out["location"] = cfg.get("location")
    if cfg.get("locations") is None:
        out.pop("locations", None)
    return out


def plan_server(req: PlanRequest, catalog: Catalog, today: date) -> PlanResponse:
    """The planned server, with the catalogue's rules on its type (`type_rules`) as problems and warnings."""
    resp = _plan_server(req, catalog)
    stype, cands = req.config.get("server_type"), candidates(req.config)
    if not isinstance(stype, str) or not is_known(cands):
        return resp
    prior = req.prior
    landed = prior.attributes.get("location") if prior is not None else None
    warnings: list[str] = []
    if prior is None or resp.requires_replace:
        problems, warnings = type_rules.check_new(req.address, stype, [str(c) for c in cands],
                                                  req.config.get("location") is not None, catalog, today)
    elif stype == prior.attributes.get("server_type"):
        problems, warnings = [], type_rules.check_kept(req.address, stype, landed, catalog, today)
    else:
        problems = type_rules.check_rescale(stype, landed, catalog, today)
    if not problems and not warnings:
        return resp
    return PlanResponse(resp.address, resp.planned, resp.requires_replace, resp.notes, tuple(warnings),
                        tuple(problems))


def _plan_server(req: PlanRequest, catalog: Catalog) -> PlanResponse:
    cfg = req.config
    if cfg.get("location") is not None and cfg.get("locations") is not None:
        raise ProviderError(f"{req.address}: set either location or locations, not both",
                            hint="locations = [...] lists the locations to try in order; the state's location "
                                 "says where the server landed", code="invalid_config")
    check_labels(req.address, cfg.get("labels"))
    planned = configured(cfg)
    notes: list[str] = []
    replace: list[str] = []
    prior = req.prior
    cands = candidates(cfg)
    if prior is None:
        for name in COMPUTED:
            planned[name] = UNKNOWN
        if cfg.get("location") is None:
            planned["location"] = UNKNOWN
        if len(cands) > 1:
            notes.append(f"lands in the first of {', '.join(map(str, cands))} with capacity")
        return PlanResponse(req.address, planned, (), tuple(notes))
    before = prior.attributes
    for name in COMPUTED:
        planned[name] = before.get(name, UNKNOWN)
    landed = before.get("location")
    if cands and is_known(cands) and landed not in cands:
        replace.append("location")
        notes.append(f"the server is in {landed}, not in {', '.join(cands)}")
        if cfg.get("location") is None:
            planned["location"] = UNKNOWN
    else:
        planned["location"] = landed
    if is_known(planned["image"]) and planned["image"] != before.get("image"):
        replace.append("image")
    if net_flags(planned["public_net"]) != net_flags(before.get("public_net")):
        replace.append("public_net")
    if is_known(planned["firewall_ids"]) and sorted(map(str, planned["firewall_ids"])) != sorted(
            map(str, before.get("firewall_ids") or [])):
        replace.append("firewall_ids")
        notes.append("firewall_ids apply at creation: the server is recreated with the new firewalls")
    replace.extend(_unreadable(planned, before, prior.private, notes))
    replace.extend(_rescale(planned, before, prior.private, catalog, notes))
    if replace:
        for name in COMPUTED:
            planned[name] = UNKNOWN
    return PlanResponse(req.address, planned, tuple(replace), tuple(notes))


def _unreadable(planned: dict[str, Any], before: Mapping[str, Any], private: Mapping[str, Any],
                notes: list[str]) -> list[str]:
    unobserved = set(private.get("unobserved") or ())
    changed = [k for k in UNREADABLE if not is_known(planned[k]) or planned[k] != before.get(k)]
    if not changed or not unobserved:
        return changed
    digest = private.get("inputs_digest")
    wanted = inputs_digest(planned["ssh_keys"], planned["user_data"]) if is_known(
        [planned["ssh_keys"], planned["user_data"]]) else None
    if digest is not None and digest != wanted:
        notes.append("the server was created with other ssh_keys/user_data than configured, so it is replaced")
        return changed
    notes.append(f"{', '.join(sorted(unobserved))} cannot be read back from Hetzner Cloud; the configured "
                 "values are recorded")
    return [k for k in changed if k not in unobserved]


def _rescale(planned: dict[str, Any], before: Mapping[str, Any], private: Mapping[str, Any], catalog: Catalog,
             notes: list[str]) -> list[str]:
    old, new = before.get("server_type"), planned.get("server_type")
    if not is_known(new) or new == old:
        return []
    spec_new, spec_old = catalog.get(str(new)), catalog.get(str(old))
    head = f"server_type {old} -> {new}"
    if spec_new is None:
        notes.append(f"{head}: rescale in place (powered off and on again); {new} is not in {catalog.source}")
        return []
    arch = private.get("architecture") or (spec_old.architecture if spec_old else None)
    disk = private.get("primary_disk_size") or (spec_old.disk if spec_old else None)
    if arch and spec_new.architecture != arch:
        notes.append(f"{head}: {new} is {spec_new.architecture} and the server is {arch}; a rescale cannot "
                     "change the architecture, so the server is replaced")
        return ["server_type"]
    if disk and spec_new.disk < int(disk):
        notes.append(f"{head}: {new} has a {spec_new.disk} GB disk, the server has {disk} GB; a rescale "
                     "cannot shrink a disk, so the server is replaced")
        return ["server_type"]
    landed = before.get("location")
    if spec_new.prices and landed and landed not in spec_new.prices:
        notes.append(f"{head}: {new} is not offered in {landed}, so the server is replaced")
        return ["server_type"]
    notes.append(f"{head}: rescale in place (powered off, resized to a {spec_new.disk} GB disk, powered on)")
    return []


def observed(view: ServerView, basis: Mapping[str, Any] | None) -> dict[str, Any]:
    """The server's attributes: what the API shows, in the basis's spelling where it means the same, and the
    basis's values for what the API cannot show (empty without a basis)."""
    b = basis or {}
    image = b.get("image") if "image" in b and (view.image is None or b.get("image") in (
        view.image, str(view.image_id))) else view.image
    firewalls = b.get("firewall_ids") if sorted(map(str, b.get("firewall_ids") or [])) == sorted(
        map(str, view.firewall_ids)) and "firewall_ids" in b else list(view.firewall_ids)
    given = b.get("public_net")
    shape: dict[str, Any] = given[0] if isinstance(given, list) and given and isinstance(given[0], dict) else (
        DEFAULT_PUBLIC_NET[0])
    flags = {"ipv4_enabled": view.ipv4 is not None, "ipv6_enabled": view.ipv6_net is not None}
    public_net = [{k: flags[k] for k in shape if k in flags}]
    attrs: dict[str, Any] = {
        "name": view.name, "server_type": view.server_type, "image": image, "location": view.location,
        "ssh_keys": list(b.get("ssh_keys") or []), "labels": user_labels(view.labels),
        "user_data": b.get("user_data"), "firewall_ids": list(firewalls or []),
        "backups": view.backup_window is not None, "public_net": public_net,
        "id": str(view.id), "ipv4_address": view.ipv4 or "", "ipv6_address": ipv6_first(view.ipv6_net),
        "status": view.status,
    }
    if b.get("locations") is not None:
        attrs["locations"] = list(b["locations"])
    return attrs


def observed_private(view: ServerView, unobserved: list[str] | tuple[str, ...], lineage: str) -> dict[str, Any]:
    """Provider-only data; the inputs digest counts only on a server this state made (its lineage label)."""
    ours = view.labels.get(LABEL_LINEAGE) == lineage
    return {"primary_disk_size": view.primary_disk_size, "architecture": view.architecture,
            "image_id": view.image_id, "unobserved": list(unobserved),
            "inputs_digest": view.labels.get(LABEL_INPUTS) if ours else None}
