"""The Hetzner Cloud provider: `hcloud_server` and `hcloud_ssh_key` behind the providers.base protocol.

Nothing touches the network until the first refresh, apply or import; `plan` and `price` work offline
from the catalogue (the API's `/server_types`, read once during a refresh, else the bundled table). What
only a refresh, an apply or an import uses (asyncio, the action waiter, the server reader, the refresher and
the create/update/delete operations) is imported when first used, so `validate` and an offline plan do not
pay for it at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from providers.base import (
    LABEL_LINEAGE,
    LABEL_MANAGED_BY,
    MANAGED_BY,
    ApplyRequest,
    ApplyResponse,
    ImportRequest,
    Journal,
    ObservedResource,
    PlanRequest,
    PlanResponse,
    Price,
    ProviderConfig,
    RefreshRequest,
    RefreshResponse,
    ResourceKind,
    TypeInfo,
)
from providers.hcloud import catalog as catalogs
from providers.hcloud.server_attrs import SERVER, SSH_KEY, UNREADABLE, observed, observed_private, plan_server
from providers.hcloud.settings import DEFAULT_BUDGET, HcloudSettings
from reconciler.actions import Action
from reconciler.errors import NotAvailableError, ProviderError

if TYPE_CHECKING:
    from providers.hcloud.api import HcloudApi
    from providers.hcloud.reader import ServerReader
    from providers.hcloud.servers import ServerOps
    from providers.hcloud.ssh_keys import SshKeyOps
    from providers.hcloud.waiter import ActionWaiter

TYPES: dict[str, TypeInfo] = {
    SERVER: TypeInfo(ResourceKind.CLOUD, frozenset({"id", "ipv4_address", "ipv6_address", "status"})),
    SSH_KEY: TypeInfo(ResourceKind.CLOUD, frozenset({"id", "fingerprint"})),
}


# A step costs about this many requests of the project's budget (a create: its POST, its share of the batched
# action polls and the final GET, 2.3 measured by bench/hcloud_refresh.py), with headroom.
REQUESTS_PER_STEP = 4
MAX_PARALLEL = 1000  # a sanity bound; the budget (3600 requests an hour by default) allows 900


class HcloudProvider:
    name = "hcloud"

    def __init__(self, config: ProviderConfig, settings: HcloudSettings | None = None) -> None:
        self.config = config
        self.settings = settings or HcloudSettings.from_mapping(config.settings)
        self.catalog: catalogs.Catalog = catalogs.bundled()
        self._catalog_from_api = False
        self._api: HcloudApi | None = None

    @cached_property
    def waiter(self) -> ActionWaiter:
        from providers.hcloud.waiter import ActionWaiter

        return ActionWaiter(lambda ids: self.api.get_actions(ids), base=self.settings.poll_interval,
                            cap=self.settings.poll_cap)

    @cached_property
    def reader(self) -> ServerReader:
        from providers.hcloud.reader import ServerReader

        return ServerReader(lambda selector: self.api.list_servers(selector), lambda sid: self.api.get_server(sid),
                            {LABEL_MANAGED_BY: MANAGED_BY, LABEL_LINEAGE: self.config.lineage},
                            window=self.settings.poll_interval / 100)

    @property
    def api(self) -> HcloudApi:
        """The API client, made on first use (plan and price never need it, nor the SDK's import time)."""
        if self._api is None:
            from providers.hcloud import api as client

            self._api = client.HcloudApi(self.settings)
            self.waiter.budget = self._api.bucket  # looks are spaced by the request budget the API reports
        return self._api

    @property
    def max_parallel(self) -> int:
        """As many steps at once as the request budget left can carry: the transport's bucket follows the API's
        `RateLimit-Limit/Remaining/Reset` headers (the plan's refresh has read them before an apply starts)."""
        budget = self._api.bucket.tokens if self._api is not None else DEFAULT_BUDGET
        return max(1, min(MAX_PARALLEL, int(budget // REQUESTS_PER_STEP)))

    @property
    def servers(self) -> ServerOps:
        from providers.hcloud.servers import ServerOps

        return ServerOps(self.api, self.waiter, self.config.lineage, self.reader)

    @property
    def ssh_keys(self) -> SshKeyOps:
        from providers.hcloud.ssh_keys import SshKeyOps

        return SshKeyOps(self.api, self.config.lineage)

    def types(self) -> Mapping[str, TypeInfo]:
        return TYPES

    # ------------------------------------------------------------------------------------ plan
    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]:
        out = []
        today = datetime.now(UTC).date()  # deprecations are judged by the day the plan is made
        for req in requests:
            if req.type == SERVER:
                out.append(plan_server(req, self.catalog, today))
            elif req.type == SSH_KEY:
                from providers.hcloud.ssh_keys import plan_ssh_key

                out.append(plan_ssh_key(req))
            else:
                raise NotAvailableError(f'the "hcloud" provider has no resource type {req.type}')
        return out

    # ------------------------------------------------------------------------------------ refresh
    async def refresh(self, request: RefreshRequest) -> RefreshResponse:
        import asyncio

        from providers.hcloud.refresh import Refresher

        refresher = Refresher(self.api, self.servers)
        wants_prices = any(r.type == SERVER for r in request.recorded) or any(t == SERVER for _, t in request.wanted)
        if wants_prices and not self._catalog_from_api:
            answer, _ = await asyncio.gather(refresher.refresh(request), self._load_catalog())
            return answer
        return await refresher.refresh(request)

    async def _load_catalog(self) -> None:
        import asyncio

        try:
            types = await asyncio.to_thread(self.api.server_types)
        except ProviderError:
            return  # prices fall back to the bundled table; the refresh itself reports real failures
        self.catalog = catalogs.from_api(types, datetime.now(UTC).date().isoformat())
        self._catalog_from_api = True

    # ------------------------------------------------------------------------------------ apply
    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse:
        ops: Any = self.servers if request.type == SERVER else self.ssh_keys if request.type == SSH_KEY else None
        if ops is None:
            raise NotAvailableError(f'the "hcloud" provider has no resource type {request.type}')
        if request.action is Action.CREATE:
            result: ApplyResponse = await ops.create(request, journal)
        elif request.action is Action.UPDATE:
            result = await ops.update(request, journal)
        elif request.action is Action.DELETE:
            result = await ops.delete(request, journal)
        else:
            raise NotAvailableError(f"{request.address}: the hcloud provider cannot {request.action.value}")
        return result

    async def import_resource(self, request: ImportRequest) -> ObservedResource:
        import asyncio

        from providers.hcloud.ssh_keys import observed_key

        try:
            ident = int(request.id)
        except ValueError:
            raise ProviderError(f"{request.address}: {request.id!r} is not a Hetzner Cloud id",
                                hint="use the numeric id shown in the Cloud Console or by `hcloud server list`",
                                code="invalid_input") from None
        if request.type == SERVER:
            view = await asyncio.to_thread(self.api.get_server, ident)
            if view is None:
                raise ProviderError(f"{request.address}: there is no server with id {ident}", code="not_found")
            # what cannot be read back is taken from the configuration at the next plan, never a replacement
            return ObservedResource(str(ident), observed(view, None),
                                    observed_private(view, list(UNREADABLE), self.config.lineage))
        if request.type == SSH_KEY:
            key = await asyncio.to_thread(self.api.get_ssh_key, ident)
            if key is None:
                raise ProviderError(f"{request.address}: there is no SSH key with id {ident}", code="not_found")
            return ObservedResource(str(ident), observed_key(key, None))
        raise NotAvailableError(f'the "hcloud" provider has no resource type {request.type}')

    # ------------------------------------------------------------------------------------ prices
    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None:
        if type_ == SSH_KEY:
            return Price(0.0, self.catalog.currency, self.catalog.source)
        if type_ != SERVER:
            return None
        server_type = attributes.get("server_type")
        if not isinstance(server_type, str):
            return None
        location = attributes.get("location")
        if not isinstance(location, str):
            choices = [c for c in attributes.get("locations") or [] if isinstance(c, str)]
            location = choices[0] if choices else None
        monthly = self.catalog.monthly_gross(server_type, location)
        if monthly is None:
            return None
        if attributes.get("backups") is True:
            monthly *= 1.2  # backups cost 20 % of the server's price
        return Price(round(monthly, 4), self.catalog.currency, self.catalog.source)

    async def close(self) -> None:
        if "waiter" in self.__dict__:  # made only by an apply or a refresh
            await self.waiter.close()
        if "reader" in self.__dict__:
            self.reader.close()
        if self._api is not None:
            self._api.close()


def create_provider(config: ProviderConfig) -> HcloudProvider:
    """The factory the engine calls; builds the provider offline (no token needed until the first call)."""
    return HcloudProvider(config)
