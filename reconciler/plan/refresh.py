"""Refresh: ask every provider what exists now, and fold the answer into a copy of the state.

Objects found are updated, vanished ones dropped (the plan then recreates them), and objects carrying our
ownership labels for an address state does not record (a crash between create and record) are adopted.
What changed is worked out by comparing the states before and after (plan/drift.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from providers.base import RecordedResource, RefreshRequest, RefreshResponse
from reconciler.registry import ProviderSet, provider_name
from reconciler.state.document import ResourceState, StateDoc


@dataclass(frozen=True)
class RefreshResult:
    state: StateDoc
    warnings: tuple[str, ...]


def recorded(res: ResourceState) -> RecordedResource:
    return RecordedResource(res.address, res.type, res.id, res.attributes, res.private)


async def refresh_state(state: StateDoc, providers: ProviderSet, wanted: Iterable[tuple[str, str]]) -> RefreshResult:
    import asyncio  # here: an offline plan imports this module for `recorded` and never starts an event loop

    by_provider: dict[str, tuple[list[RecordedResource], list[tuple[str, str]]]] = {}
    unrecorded = {a for a, r in state.resources.items() if r.id is None}  # a create that never got an id
    for res in state.resources.values():
        if res.id is not None:
            by_provider.setdefault(provider_name(res.type), ([], []))[0].append(recorded(res))
    for address, type_ in wanted:
        if address not in state.resources or address in unrecorded:
            by_provider.setdefault(provider_name(type_), ([], []))[1].append((address, type_))
    names = sorted(by_provider)
    requests = [RefreshRequest(tuple(by_provider[n][0]), tuple(by_provider[n][1])) for n in names]
    answers: list[RefreshResponse] = list(await asyncio.gather(
        *(providers.get(n).refresh(r) for n, r in zip(names, requests, strict=True))))
    doc = state
    warnings: list[str] = []
    types = {a: t for a, t in wanted}
    for ans in answers:
        warnings.extend(ans.warnings)
        for address, obs in sorted(ans.found.items()):
            old = doc.resources[address]
            doc = doc.with_resource(ResourceState(address, old.type, obs.id, obs.attributes,
                                                  {**old.private, **obs.private}, old.dependencies, old.pending))
        for address in sorted(ans.gone):
            doc = doc.without(address)
        for address, obs in sorted(ans.adopted.items()):
            doc = doc.with_resource(ResourceState(address, types.get(address, ""), obs.id, obs.attributes,
                                                  obs.private))
    return RefreshResult(doc, tuple(warnings))
