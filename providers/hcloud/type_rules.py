"""Plan-time rules on `hcloud_server.server_type` and its location, from the catalogue (Hetzner would refuse
the create, or warn in its changelog, long before an apply got there).

- an unknown type, or one not offered in any configured location: a problem naming the choices;
- a new server (create or replacement) of a type whose every candidate location is past its
  `unavailable_after`: a problem naming the successor; still orderable but deprecated: a dated warning;
- a kept server of a deprecated type: a dated warning naming the successor (the server keeps running);
- a rescale to a type no longer orderable where the server is: a problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from providers.base import ConfigProblem
from providers.hcloud.catalog import Catalog, Deprecation, ServerTypeSpec


def _dated(name: str, dep: Deprecation) -> str:
    return (f"server type {name} is deprecated (announced {dep.announced.isoformat()}, no new servers after "
            f"{dep.unavailable_after.isoformat()})")


def _successor(spec: ServerTypeSpec, catalog: Catalog, today: date) -> str:
    if spec.successor and spec.successor in catalog.types:
        return f"use {spec.successor}, its successor"
    return "use one of " + ", ".join(catalog.orderable(today))


def _unknown(server_type: str, catalog: Catalog, today: date, location: str | None) -> ConfigProblem:
    return ConfigProblem("server_type", f'unknown server type "{server_type}" ({catalog.source})',
                         "one of " + ", ".join(catalog.orderable(today, location)))


def _loc_attr(location_given: bool) -> str:
    return "location" if location_given else "locations"


def check_new(address: str, server_type: str, candidates: Sequence[str], location_given: bool, catalog: Catalog,
              today: date) -> tuple[list[ConfigProblem], list[str]]:
    """A server about to be created with `server_type` in the first of `candidates` (empty: any location)."""
    spec = catalog.get(server_type)
    if spec is None:
        return [_unknown(server_type, catalog, today, None)], []
    problems: list[ConfigProblem] = []
    for loc in candidates:
        if loc not in spec.prices:
            here = catalog.orderable(today, loc)
            problems.append(ConfigProblem(
                _loc_attr(location_given), f"server type {server_type} is not offered in {loc}",
                f"{server_type} is offered in {', '.join(sorted(spec.prices))}"
                + (f"; types offered in {loc}: {', '.join(here)}" if here else "")))
    if problems:
        return problems, []
    where = list(candidates) or list(spec.prices)  # every candidate is offered here
    live = [loc for loc in where if spec.orderable(loc, today)]
    if not live:
        dep = next(spec.deprecations[loc] for loc in where if loc in spec.deprecations)
        return [ConfigProblem("server_type", f"{_dated(server_type, dep)}: Hetzner no longer creates it"
                                 + (f" in {', '.join(where)}" if candidates else ""),
                                 _successor(spec, catalog, today))], []
    kept = next((spec.deprecations[loc] for loc in live if loc in spec.deprecations), None)
    if kept is not None:
        return [], [f"{address}: {_dated(server_type, kept)}; {_successor(spec, catalog, today)}"]
    return [], []


def check_kept(address: str, server_type: str, location: str | None, catalog: Catalog,
               today: date) -> list[str]:
    """Warnings for a recorded server that keeps `server_type` in `location`."""
    spec = catalog.get(server_type)
    if spec is None or location is None:
        return []
    dep = spec.deprecations.get(location)
    if dep is None:
        return []
    return [f"{address}: {_dated(server_type, dep)}; the server keeps running, but a replacement would fail: "
            f"{_successor(spec, catalog, today)}"]


def check_rescale(server_type: str, location: str | None, catalog: Catalog,
                  today: date) -> list[ConfigProblem]:
    """A rescale in place to `server_type` where the server is."""
    spec = catalog.get(server_type)
    if spec is None:
        return [_unknown(server_type, catalog, today, location)]
    if location is None or location not in spec.prices or spec.orderable(location, today):
        return []
    dep = spec.deprecations[location]
    return [ConfigProblem("server_type", f"{_dated(server_type, dep)}: a server cannot be rescaled to it",
                             _successor(spec, catalog, today))]
