"""Drift: what a refresh found changed outside reconciler, by comparing state before and after it."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.state.document import StateDoc


@dataclass(frozen=True)
class Drift:
    address: str
    kind: str  # "changed" | "deleted" | "adopted" | "running"
    detail: str

    @property
    def symbol(self) -> str:
        return {"changed": "~", "deleted": "-", "adopted": "+", "running": "!"}[self.kind]


def drift(before: StateDoc, after: StateDoc) -> tuple[Drift, ...]:
    out: list[Drift] = []
    for address in sorted(set(before.resources) | set(after.resources)):
        old, new = before.resources.get(address), after.resources.get(address)
        if old is not None and new is None:
            if old.id is not None:
                out.append(Drift(address, "deleted", "deleted outside reconciler"))
        elif old is None or old.id is None:
            if new is not None and new.id is not None:
                out.append(Drift(address, "adopted", f"found by its ownership labels (id {new.id}) and adopted"))
        elif new is not None and old.attributes != new.attributes:
            if old.type == "nixos_machine" and old.attributes.get("toplevel") != new.attributes.get("toplevel"):
                out.append(Drift(address, "running", f"runs {new.attributes.get('toplevel')}, recorded "
                                                     f"{old.attributes.get('toplevel')}"))
                continue
            keys = sorted(k for k in set(old.attributes) | set(new.attributes)
                          if old.attributes.get(k) != new.attributes.get(k))
            out.append(Drift(address, "changed", "changed outside reconciler: " + ", ".join(keys)))
    return tuple(out)
