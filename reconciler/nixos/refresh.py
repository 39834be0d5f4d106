"""Refresh: `readlink -f /run/current-system` on every installed machine in parallel (bounded), one SSH
connection each, checked against the pinned key. What a host says goes into `found` as `current_toplevel`
beside the recorded (deployed) `toplevel`, so the engine can show drift; a host that does not answer, or answers
with another key, keeps its recorded attributes (without a `current_toplevel`) and gets a warning. A machine is
never "gone": its VM is the cloud provider's business."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from providers.base import ObservedResource, RecordedResource, RefreshRequest, RefreshResponse
from reconciler.errors import HostKeyError, ReconcilerError
from reconciler.nixos import activate
from reconciler.nixos.context import Context
from reconciler.nixos.machine import CURRENT, machine_name
from reconciler.nixos.ssh import Endpoint


def _endpoint(attrs: Mapping[str, Any]) -> Endpoint | None:
    host = attrs.get("target_host")
    if not isinstance(host, str) or not host:
        return None
    key = attrs.get("ssh_private_key_file")
    return Endpoint(host, int(attrs.get("target_port") or 22), str(attrs.get("target_user") or "root"),
                    str(key) if isinstance(key, str) and key else None)


async def _observe(ctx: Context, rec: RecordedResource,
                   limit: asyncio.Semaphore) -> tuple[ObservedResource, str | None]:
    attrs = dict(rec.attributes)
    attrs.pop(CURRENT, None)
    ident = rec.id or machine_name(rec.address)
    endpoint = _endpoint(attrs)
    pinned = attrs.get("host_key")
    if endpoint is None or not isinstance(pinned, str) or not pinned or not attrs.get("toplevel"):
        return ObservedResource(ident, attrs, dict(rec.private)), None  # not installed yet: nothing to ask
    async with limit:
        try:
            session = await ctx.pool.get(endpoint, pinned)
            current = (await activate.probe(session)).current
        except HostKeyError as exc:
            return ObservedResource(ident, attrs, dict(rec.private)), f"{rec.address}: {exc.message}"
        except ReconcilerError as exc:
            return ObservedResource(ident, attrs, dict(rec.private)), f"{rec.address}: {exc.message}; keeping " \
                                                                     "the recorded toplevel"
    attrs[CURRENT] = current
    return ObservedResource(ident, attrs, dict(rec.private)), None


async def refresh(ctx: Context, request: RefreshRequest) -> RefreshResponse:
    limit = asyncio.Semaphore(max(1, ctx.settings.parallelism))
    recorded = [r for r in request.recorded if r.type == "nixos_machine"]
    results = await asyncio.gather(*(_observe(ctx, r, limit) for r in recorded))
    found = {rec.address: observed for rec, (observed, _) in zip(recorded, results, strict=True)}
    warnings = tuple(w for _, w in results if w)
    return RefreshResponse(found=found, gone=frozenset(), warnings=warnings)
