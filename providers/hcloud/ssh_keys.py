"""`hcloud_ssh_key`: planned attributes, and create (adopting one this state already made for the address,
never a duplicate), rename/relabel in place, delete. A key that exists but is not ours is reported with
the `reconciler import` command that adopts it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers.base import ApplyRequest, ApplyResponse, Journal, PlanRequest, PlanResponse, ownership_labels
from providers.hcloud.label_selector import render
from providers.hcloud.server_attrs import check_labels, user_labels
from providers.hcloud.views import SshKeyView
from reconciler.errors import ProviderError
from reconciler.values import UNKNOWN, is_known

if TYPE_CHECKING:
    from providers.hcloud.api import HcloudApi

COMPUTED = ("id", "fingerprint")


def md5_fingerprint(public_key: str) -> str | None:
    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, ValueError, binascii.Error):
        return None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def plan_ssh_key(req: PlanRequest) -> PlanResponse:
    check_labels(req.address, req.config.get("labels"))
    planned = dict(req.config)
    planned["labels"] = req.config.get("labels") if req.config.get("labels") is not None else {}
    if req.prior is None:
        planned.update({k: UNKNOWN for k in COMPUTED})
        return PlanResponse(req.address, planned)
    before = req.prior.attributes
    planned.update({k: before.get(k, UNKNOWN) for k in COMPUTED})
    key = planned.get("public_key")
    replace: tuple[str, ...] = ()
    if not is_known(key) or str(key).strip() != str(before.get("public_key", "")).strip():
        replace = ("public_key",)
        planned.update({k: UNKNOWN for k in COMPUTED})
    return PlanResponse(req.address, planned, replace)


def observed_key(view: SshKeyView, basis: Mapping[str, Any] | None) -> dict[str, Any]:
    b = basis or {}
    same = str(b.get("public_key", "")).strip() == view.public_key.strip()
    return {"name": view.name, "public_key": b["public_key"] if same else view.public_key,
            "labels": user_labels(view.labels), "id": str(view.id), "fingerprint": view.fingerprint}


class SshKeyOps:
    def __init__(self, api: HcloudApi, lineage: str) -> None:
        self.api = api
        self.lineage = lineage

    def ours(self, view: SshKeyView, address: str) -> bool:
        return all(view.labels.get(k) == v for k, v in ownership_labels(self.lineage, address).items())

    async def create(self, req: ApplyRequest, journal: Journal) -> ApplyResponse:
        cfg = req.planned
        name, public_key = str(cfg["name"]), str(cfg["public_key"])
        labels = {**dict(cfg.get("labels") or {}), **ownership_labels(self.lineage, req.address)}
        what = f'create of {req.address} (SSH key "{name}")'
        if req.pending:
            found = await asyncio.to_thread(self.api.list_ssh_keys, render(ownership_labels(self.lineage,
                                                                                             req.address)))
            if found:
                view = min(found, key=lambda v: v.id)
                journal.record(str(view.id), observed_key(view, cfg))
                return ApplyResponse(str(view.id), observed_key(view, cfg))
        journal.intend(name=name)
        try:
            view = await asyncio.to_thread(self.api.create_ssh_key, what, name, public_key.strip(), labels)
        except ProviderError as e:
            if e.code != "uniqueness_error":
                raise
            taken = await asyncio.to_thread(self.api.find_ssh_key, name, md5_fingerprint(public_key))
            if taken is None or not self.ours(taken, req.address):
                raise ProviderError(
                    f"{what}: an SSH key with this name or public key already exists in the project"
                    + (f' ("{taken.name}", id {taken.id}) and is not managed by this state' if taken else ""),
                    hint=(f"adopt it with: reconciler import {req.address} {taken.id}" if taken else
                          "rename the key or remove the existing one"), code="uniqueness_error") from None
            view = taken
        journal.record(str(view.id), observed_key(view, cfg))
        return ApplyResponse(str(view.id), observed_key(view, cfg))

    async def update(self, req: ApplyRequest, journal: Journal) -> ApplyResponse:
        assert req.prior is not None and req.prior.id is not None
        cfg = req.planned
        labels = {**dict(cfg.get("labels") or {}), **ownership_labels(self.lineage, req.address)}
        what = f"update of {req.address} (SSH key {req.prior.id})"
        view = await asyncio.to_thread(self.api.update_ssh_key, what, int(req.prior.id), str(cfg["name"]), labels)
        return ApplyResponse(str(view.id), observed_key(view, cfg))

    async def delete(self, req: ApplyRequest, journal: Journal) -> ApplyResponse:
        assert req.prior is not None and req.prior.id is not None
        await asyncio.to_thread(self.api.delete_ssh_key, f"delete of {req.address} (SSH key {req.prior.id})",
                                int(req.prior.id))
        return ApplyResponse(None, {})
