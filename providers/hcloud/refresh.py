"""Refresh: what exists now, in as few requests as possible.

One paginated listing per type of everything carrying this state's labels (`managed-by` and the lineage,
50 a page) answers for all recorded objects at once; only a recorded id missing from it (an imported
object, or one whose labels were changed by hand) costs a `GET` of its own. Unrecorded objects whose
address label matches a wanted address are adopted; any other object with our labels is reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from providers.base import ObservedResource, RecordedResource, RefreshRequest, RefreshResponse, address_label
from providers.hcloud.server_attrs import SERVER, SSH_KEY, UNREADABLE, observed, observed_private
from providers.hcloud.servers import ServerOps
from providers.hcloud.ssh_keys import observed_key
from providers.hcloud.views import SshKeyView

if TYPE_CHECKING:
    from providers.hcloud.api import HcloudApi


async def _fetch_each(fetch: Callable[[int], Any], ids: Sequence[int], limit: int = 8) -> list[Any]:
    """`fetch(id)` for each id, in threads, at most `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(ident: int) -> Any:
        async with gate:
            return await asyncio.to_thread(fetch, ident)

    return list(await asyncio.gather(*(one(i) for i in ids)))


class Refresher:
    def __init__(self, api: HcloudApi, servers: ServerOps) -> None:
        self.api = api
        self.servers = servers

    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        found: dict[str, ObservedResource] = {}
        gone: set[str] = set()
        adopted: dict[str, ObservedResource] = {}
        warnings: list[str] = []
        selector = self.servers.owned_selector()
        for type_ in (SERVER, SSH_KEY):
            recorded = [r for r in request.recorded if r.type == type_ and r.id is not None]
            wanted = {a: t for a, t in request.wanted if t == type_}
            if not recorded and not wanted:
                continue
            if type_ == SERVER:
                views: list[Any] = await asyncio.to_thread(self.api.list_servers, selector)
                fetch: Callable[[int], Any] = self.api.get_server
            else:
                views = await asyncio.to_thread(self.api.list_ssh_keys, selector)
                fetch = self.api.get_ssh_key
            by_id = {v.id: v for v in views}
            missing = [r for r in recorded if _int(r.id) not in by_id]
            for view in await _fetch_each(fetch, [_int(r.id) for r in missing]):
                if view is not None:
                    by_id[view.id] = view
            recorded_ids = set()
            for rec in recorded:
                view = by_id.get(_int(rec.id))
                if view is None:
                    gone.add(rec.address)
                    continue
                recorded_ids.add(view.id)
                found[rec.address] = self._observe(type_, view, rec)
            rest = [v for v in views if v.id not in recorded_ids]
            if type_ == SERVER:
                servers, notes = self.servers.adopted_from(rest, wanted)
                warnings.extend(notes)
                adopted.update({a: self._observe(type_, v, None) for a, v in servers.items()})
            else:
                keys, notes = _adopt_keys(rest, wanted)
                warnings.extend(notes)
                adopted.update({a: self._observe(type_, v, None) for a, v in keys.items()})
        return RefreshResponse(found, frozenset(gone), adopted, tuple(warnings))

    def _observe(self, type_: str, view: Any, rec: RecordedResource | None) -> ObservedResource:
        if type_ == SSH_KEY:
            return ObservedResource(str(view.id), observed_key(view, rec.attributes if rec else None))
        unobserved = list(rec.private.get("unobserved") or ()) if rec is not None else list(UNREADABLE)
        return ObservedResource(str(view.id), observed(view, rec.attributes if rec else None),
                                observed_private(view, unobserved, self.servers.lineage))


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return -1


def _adopt_keys(views: list[SshKeyView], wanted: Mapping[str, str]) -> tuple[dict[str, SshKeyView], list[str]]:
    by_label = {address_label(a): a for a in wanted}
    adopted: dict[str, SshKeyView] = {}
    warnings = []
    for view in sorted(views, key=lambda v: v.id):
        address = by_label.get(view.labels.get("reconciler-address", ""))
        if address is not None and address not in adopted:
            adopted[address] = view
        else:
            warnings.append(f'SSH key "{view.name}" (id {view.id}) carries this state\'s labels but is neither '
                            "recorded nor wanted by the configuration")
    return adopted, warnings
