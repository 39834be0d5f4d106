"""The monthly cost of the recorded fleet and of the planned one, from each provider's prices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from providers.base import Price, Provider, ResourceKind
from reconciler.actions import Action
from reconciler.plan.model import Cost, CostLine, ResourceChange
from reconciler.registry import ProviderSet
from reconciler.state.document import StateDoc

_PRICED_AFTER = frozenset({Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NOOP})


def plan_cost(changes: Iterable[ResourceChange], state: StateDoc, providers: ProviderSet) -> Cost | None:
    by_address = {c.address: c for c in changes}
    totals: dict[str, list[float]] = {}
    unpriced: list[str] = []
    sources: set[str] = set()
    priced: dict[str, Provider | None] = {}  # type -> its provider, None when it is no cloud type

    def add(provider: Provider, type_: str, attrs: object, slot: int, address: str,
            same_as: tuple[object, Price | None] | None = None) -> Price | None:
        """Count the price of `attrs` in `slot`; `same_as` (attributes, their price) spares pricing them
        again when they are equal, as a resource's recorded and planned values are when nothing changes."""
        if not isinstance(attrs, Mapping):
            unpriced.append(address)
            return None
        price = same_as[1] if same_as is not None and same_as[0] == attrs else provider.price(type_, attrs)
        if price is None:
            unpriced.append(address)
            return None
        sources.add(price.source)
        totals.setdefault(price.currency, [0.0, 0.0])[slot] += price.monthly
        return price

    addresses = sorted(state.resources.keys() | by_address.keys())
    for address in addresses:
        res = state.resources.get(address)
        change = by_address.get(address)
        type_ = res.type if res is not None else change.type if change is not None else ""
        if type_ not in priced:
            cloud = providers.type_info(type_).kind is ResourceKind.CLOUD
            priced[type_] = providers.for_type(type_) if cloud else None
        provider = priced[type_]
        if provider is None:
            continue
        before: tuple[object, Price | None] | None = None
        if res is not None and res.id is not None:
            before = (res.attributes, add(provider, type_, res.attributes, 0, address))
        if change is None:
            if res is not None and res.id is not None:
                add(provider, type_, res.attributes, 1, address, before)
        elif change.action in _PRICED_AFTER:
            add(provider, type_, change.after or {}, 1, address, before)
    if not totals and not unpriced:
        return None
    lines = tuple(CostLine(cur, round(v[0], 2), round(v[1], 2)) for cur, v in sorted(totals.items()))
    return Cost(lines, tuple(sorted(set(unpriced))), tuple(sorted(sources)))
