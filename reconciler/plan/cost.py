"""The monthly cost of the recorded fleet and of the planned one, from each provider's prices."""

from __future__ import annotations

from collections.abc import Iterable

from providers.base import ResourceKind
from reconciler.actions import Action
from reconciler.plan.model import Cost, CostLine, ResourceChange
from reconciler.registry import ProviderSet
from reconciler.state.document import StateDoc


def plan_cost(changes: Iterable[ResourceChange], state: StateDoc, providers: ProviderSet) -> Cost | None:
    by_address = {c.address: c for c in changes}
    totals: dict[str, list[float]] = {}
    unpriced: list[str] = []
    sources: set[str] = set()

    def add(type_: str, attrs: object, slot: int, address: str) -> None:
        if not isinstance(attrs, dict):
            unpriced.append(address)
            return
        price = providers.for_type(type_).price(type_, attrs)
        if price is None:
            unpriced.append(address)
            return
        sources.add(price.source)
        totals.setdefault(price.currency, [0.0, 0.0])[slot] += price.monthly

    addresses = sorted(set(state.resources) | set(by_address))
    for address in addresses:
        res = state.resources.get(address)
        change = by_address.get(address)
        type_ = res.type if res is not None else change.type if change is not None else ""
        if providers.type_info(type_).kind is not ResourceKind.CLOUD:
            continue
        if res is not None and res.id is not None:
            add(type_, dict(res.attributes), 0, address)
        if change is None:
            if res is not None and res.id is not None:
                add(type_, dict(res.attributes), 1, address)
        elif change.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.NOOP):
            add(type_, dict(change.after or {}), 1, address)
    if not totals and not unpriced:
        return None
    lines = tuple(CostLine(cur, round(v[0], 2), round(v[1], 2)) for cur, v in sorted(totals.items()))
    return Cost(lines, tuple(sorted(set(unpriced))), tuple(sorted(sources)))
