"""Create, update and delete `hcloud_server`s so that none is ever lost or made twice.

Create: look for an object an interrupted attempt left (by our labels) before making one; try the
locations in order while they answer "no capacity"; record the id through the journal the moment
`POST /servers` answers, before waiting for the server to start; and if the name is taken by a server that
carries this state's labels for this address, adopt it instead of failing or duplicating. Update: rename
and relabel in place, switch backups, rescale (power off, change type, power on). Delete: wait until gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from providers.base import (
    LABEL_LINEAGE,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    ApplyRequest,
    ApplyResponse,
    Journal,
    address_label,
    ownership_labels,
)
from providers.hcloud.errors import FALLBACK_CODES
from providers.hcloud.label_selector import render
from providers.hcloud.reader import ServerReader
from providers.hcloud.server_attrs import (
    LABEL_INPUTS,
    UNREADABLE,
    candidates,
    configured,
    inputs_digest,
    net_flags,
    observed,
    observed_private,
)
from providers.hcloud.views import ServerView
from providers.hcloud.waiter import ActionWaiter
from reconciler.errors import ProviderError
from reconciler.values import is_known

if TYPE_CHECKING:
    from providers.hcloud.api import HcloudApi

NOT_UPDATABLE = ("image", "ssh_keys", "user_data", "firewall_ids", "public_net")
LOCKED_TRIES = 6  # a write answered `locked` waits for the server's running actions, then tries again
T = TypeVar("T")


class ServerOps:
    def __init__(self, api: HcloudApi, waiter: ActionWaiter, lineage: str, reader: ServerReader) -> None:
        self.api = api
        self.waiter = waiter
        self.lineage = lineage
        self.reader = reader  # shares the final reads of steps that finish together

    async def unlocked(self, sid: int, what: str, call: Callable[[], T]) -> T:
        """`call()` (a blocking write on server `sid`); while the API answers `locked` (an action of the server
        is running: a start, a backup, one started by someone else), wait for its actions and try again."""
        for attempt in range(LOCKED_TRIES):
            try:
                return await asyncio.to_thread(call)
            except ProviderError as e:
                if e.code != "locked" or attempt == LOCKED_TRIES - 1:
                    raise
            running = await asyncio.to_thread(self.api.running_actions, sid)
            if running:
                await self.waiter.wait(running, what)
            else:  # locked by something that is not an action we can see: back off a little
                await asyncio.sleep(self.waiter.base * 2 ** attempt)
        raise AssertionError("unreachable")

    def owned_selector(self) -> str:
        return render({LABEL_MANAGED_BY: MANAGED_BY, LABEL_LINEAGE: self.lineage})

    def labels_for(self, address: str, cfg: Mapping[str, Any], inputs: str | None) -> dict[str, str]:
        labels = {**dict(cfg["labels"]), **ownership_labels(self.lineage, address)}
        labels[LABEL_INPUTS] = inputs or inputs_digest(cfg["ssh_keys"], cfg["user_data"])
        return labels

    def ours(self, view: ServerView, address: str) -> bool:
        mine = ownership_labels(self.lineage, address)
        return all(view.labels.get(k) == v for k, v in mine.items())

    # ------------------------------------------------------------------------------------ create
    async def create(self, req: ApplyRequest, journal: Journal) -> ApplyResponse:
        cfg = configured(req.planned)
        name = cfg["name"]
        what = f'create of {req.address} (server "{name}")'
        if req.pending:  # an earlier attempt at this step was interrupted: it may have made the server
            selector = render(ownership_labels(self.lineage, req.address))
            found = sorted(await asyncio.to_thread(self.api.list_servers, selector), key=lambda v: v.id)
            live = [v for v in found if v.status != "deleting"]
            if live:
                return await self._adopt(live[0], cfg, req, journal, what)
        locations: list[str | None] = list(candidates(cfg)) or [None]
        journal.intend(name=name, locations=[loc for loc in locations if loc])
        tried: list[str] = []
        index = 0
        while index < len(locations):
            loc = locations[index]
            body = {**cfg, "location": loc, "labels": self.labels_for(req.address, cfg, None)}
            body["public_net"] = dict(zip(("ipv4_enabled", "ipv6_enabled"), net_flags(cfg["public_net"]),
                                          strict=True))
            try:
                created = await asyncio.to_thread(self.api.create_server, what, body)
            except ProviderError as e:
                if e.code in FALLBACK_CODES:
                    tried.append(f"{loc or 'any location'}: {e.message.split(': ', 1)[-1]}")
                    index += 1
                    if index < len(locations):
                        journal.phase(f"no capacity in {loc}, trying {locations[index]}")
                        continue
                    raise ProviderError(f"{what}: no location could take the server ({'; '.join(tried)})",
                                        hint="add fallbacks to locations = [...] or choose another server_type",
                                        code=e.code) from None
                if e.code != "uniqueness_error":
                    raise
                taken = await asyncio.to_thread(self.api.server_by_name, name)
                if taken is not None and self.ours(taken, req.address):
                    if taken.status == "deleting":  # our own earlier delete has not finished: let it, then retry
                        await self.waiter.wait(await asyncio.to_thread(self.api.running_actions, taken.id), what)
                        continue
                    return await self._adopt(taken, cfg, req, journal, what)
                raise ProviderError(
                    f'{what}: a server named "{name}" already exists and is not managed by this state'
                    + (f" (id {taken.id})" if taken else ""),
                    hint=(f"rename the server in the configuration, or adopt it: reconciler import {req.address} "
                          f"{taken.id}" if taken else "rename the server in the configuration"),
                    code="uniqueness_error") from None
            view = created.server
            journal.record(str(view.id), observed(view, cfg), observed_private(view, [], self.lineage))
            journal.phase(f"waiting for server {view.id} ({name}) to start")
            await self.waiter.wait(created.actions, what)
            if cfg["backups"]:  # POST /servers has no backups option: switch them on once it exists
                journal.phase("enable backup")
                await self._act(view.id, "enable_backup", what)
            return await self._final(view.id, cfg, what, [], req.address)
        raise AssertionError("unreachable")

    async def _adopt(self, view: ServerView, cfg: Mapping[str, Any], req: ApplyRequest, journal: Journal,
                     what: str) -> ApplyResponse:
        """A server this state made for this address already exists: record it and see it ready."""
        same = view.labels.get(LABEL_INPUTS) == inputs_digest(cfg["ssh_keys"], cfg["user_data"])
        unobserved = [] if same else list(UNREADABLE)
        journal.record(str(view.id), observed(view, cfg if same else None),
                       observed_private(view, unobserved, self.lineage))
        journal.phase(f"adopting server {view.id} ({view.name}), made by an earlier attempt")
        running = await asyncio.to_thread(self.api.running_actions, view.id)
        await self.waiter.wait(running, what)
        return await self._final(view.id, cfg if same else None, what, unobserved, req.address)

    async def _final(self, sid: int, basis: Mapping[str, Any] | None, what: str,
                     unobserved: list[str], address: str) -> ApplyResponse:
        view = await self.reader.read(sid, address)
        if view is None:
            raise ProviderError(f"{what}: server {sid} vanished while it was being set up",
                                hint="run apply again to create it anew", code="not_found")
        return ApplyResponse(str(sid), observed(view, basis), observed_private(view, unobserved, self.lineage))

    # ------------------------------------------------------------------------------------ update
    async def update(self, req: ApplyRequest, journal: Journal) -> ApplyResponse:
        assert req.prior is not None and req.prior.id is not None
        sid = int(req.prior.id)
        cfg = configured(req.planned)
        what = f'update of {req.address} (server "{cfg["name"]}")'
        view = await asyncio.to_thread(self.api.get_server, sid)
        if view is None:
            raise ProviderError(f"{what}: server {sid} no longer exists", hint="run plan again to recreate it",
                                code="not_found")
        if view.status not in ("running", "off"):  # still starting (e.g. adopted mid-create): let it settle
            await self.waiter.wait(await asyncio.to_thread(self.api.running_actions, sid), what)
            view = await asyncio.to_thread(self.api.get_server, sid) or view
        wanted_labels = self.labels_for(req.address, cfg, view.labels.get(LABEL_INPUTS))
        if view.name != cfg["name"] or dict(view.labels) != wanted_labels:
            view = await self.unlocked(sid, what, lambda: self.api.update_server(what, sid, cfg["name"], wanted_labels))
        if bool(cfg["backups"]) != (view.backup_window is not None):
            verb = "enable_backup" if cfg["backups"] else "disable_backup"
            journal.phase(verb.replace("_", " "))
            await self._act(sid, verb, what)
        if is_known(cfg["server_type"]) and cfg["server_type"] != view.server_type:
            await self._rescale(view, str(cfg["server_type"]), what, journal)
        basis = dict(cfg)
        unobserved = set(req.prior.private.get("unobserved") or ())
        for key in NOT_UPDATABLE:  # kept as recorded unless only now learned from the configuration
            if key not in unobserved and key in req.prior.attributes:
                basis[key] = req.prior.attributes[key]
        return await self._final(sid, basis, what, [], req.address)

    async def _act(self, sid: int, verb: str, what: str, **kwargs: Any) -> None:
        action = await self.unlocked(sid, what, lambda: self.api.server_action(what, sid, verb, **kwargs))
        await self.waiter.wait([action], what)

    async def _rescale(self, view: ServerView, server_type: str, what: str, journal: Journal) -> None:
        was_running = view.status in ("running", "starting")
        if view.status != "off":
            journal.phase("powering off for the rescale")
            await self._act(view.id, "power_off", what)
        journal.phase(f"changing server type {view.server_type} -> {server_type}")
        await self._act(view.id, "change_type", what, server_type=server_type, upgrade_disk=True)
        if was_running:
            journal.phase("powering on")
            await self._act(view.id, "power_on", what)

    # ------------------------------------------------------------------------------------ delete
    async def delete(self, req: ApplyRequest, journal: Journal) -> ApplyResponse:
        assert req.prior is not None and req.prior.id is not None
        what = f"delete of {req.address} (server {req.prior.id})"
        sid = int(req.prior.id)
        action = await self.unlocked(sid, what, lambda: self.api.delete_server(what, sid))
        if action is not None:
            journal.phase(f"waiting for server {req.prior.id} to be deleted")
            await self.waiter.wait([action], what)
        return ApplyResponse(None, {})

    # ------------------------------------------------------------------------------------ read
    def adopted_from(self, views: list[ServerView], wanted: Mapping[str, str]) -> tuple[
            dict[str, ServerView], list[str]]:
        """Unrecorded servers carrying this state's labels: by wanted address, plus warnings for the rest."""
        by_label = {address_label(a): a for a in wanted}
        adopted: dict[str, ServerView] = {}
        warnings = []
        for view in sorted(views, key=lambda v: v.id):
            address = by_label.get(view.labels.get("reconciler-address", ""))
            if address is not None and address not in adopted and view.status != "deleting":
                adopted[address] = view
            elif view.status != "deleting":
                warnings.append(f'server "{view.name}" (id {view.id}) carries this state\'s labels but is neither '
                                "recorded nor wanted by the configuration; delete it in the Cloud Console or import "
                                "it with reconciler import")
        return adopted, warnings
