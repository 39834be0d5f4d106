"""Drift: what a refresh found changed outside reconciler, by comparing state before and after it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.state.document import StateDoc


@dataclass(frozen=True)
class Drift:
    """A difference between state and what a refresh found."""
    address: str
    kind: str  # "changed" | "deleted" | "adopted" | "running"
    detail: str
    type: str = ""
    before: Mapping[str, Any] | None = None  # the recorded attributes, before the refresh
    after: Mapping[str, Any] | None = None  # what the refresh found (None: deleted)

    @property
    def symbol(self) -> str:
        return {"changed": "~", "deleted": "-", "adopted": "+", "running": "!"}[self.kind]


def drift(before: StateDoc, after: StateDoc) -> tuple[Drift, ...]:
    out: list[Drift] = []
    for address in sorted(set(before.resources) | set(after.resources)):
        old, new = before.resources.get(address), after.resources.get(address)
        if old is not None and old.pending and old.id is not None:
            continue  # our own interrupted step: the plan resumes or redoes it; nobody else changed it
        if old is not None and new is None:
            if old.id is not None:
                out.append(Drift(address, "deleted", "deleted outside reconciler", old.type, dict(old.attributes)))
        elif old is None or old.id is None:
            if new is not None and new.id is not None:
                out.append(Drift(address, "adopted", f"found by its ownership labels (id {new.id}) and adopted",
                                 new.type, None, dict(new.attributes)))
        elif new is not None and old.type == "nixos_machine":
            recorded = old.attributes.get("toplevel")
            running = new.attributes.get("current_toplevel") or new.attributes.get("toplevel")
            if running and recorded and running != recorded:
                out.append(Drift(address, "running", f"runs {running}, recorded {recorded}", old.type,
                                 dict(old.attributes), {**new.attributes, "toplevel": running}))
        elif new is not None and old.attributes != new.attributes:
            keys = sorted(k for k in set(old.attributes) | set(new.attributes)
                          if old.attributes.get(k) != new.attributes.get(k))
            out.append(Drift(address, "changed", "changed outside reconciler: " + ", ".join(keys),
                             old.type, dict(old.attributes), dict(new.attributes)))
    return tuple(out)
