"""Which machines `reconciler machines update [NAME...]` touches: the named ones (a name may also be a tag,
selecting every machine carrying it), or with no names every machine not marked `require_explicit_update`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import ReconcilerError


def machines_to_update(machines: Mapping[str, Mapping[str, Any]], names: Sequence[str] = ()) -> list[str]:
    """`machines`: machine name -> its nixos_machine attributes. Returns machine names, sorted."""
    if not names:
        return sorted(m for m, attrs in machines.items() if not attrs.get("require_explicit_update"))
    chosen: set[str] = set()
    for name in names:
        if name in machines:
            chosen.add(name)
            continue
        tagged = {m for m, attrs in machines.items() if name in (attrs.get("tags") or ())}
        if not tagged:
            raise ReconcilerError(f'no machine or tag named "{name}"',
                                  hint="machines: " + ", ".join(sorted(machines)))
        chosen |= tagged
    return sorted(chosen)
