"""Keep `inventory.json` right during an apply: the plan's document, with each member address that was
unknown at plan time (its VM is created or replaced in this apply) filled in once what decides it is done.

The action graph makes every machine that reads the inventory wait for whatever decides its members'
addresses (plan/graph.py `inventory_edges`), so by the time a reader's step starts, `resolve` finds those
addresses in the live state and the file the flake reads is complete. Each address is evaluated once,
and the file is rewritten only when something was resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.plan.inventory import with_addresses, write_inventory
from reconciler.state.document import StateDoc
from reconciler.values import is_known


class InventoryFile:
    def __init__(self, directory: Path, planned: Mapping[str, Any], machine_addresses: Mapping[str, str],
                 evaluate: Callable[[list[str], StateDoc], Mapping[str, Mapping[str, Any]]]) -> None:
        """`machine_addresses`: machine name -> its nixos_machine instance address; `evaluate(addresses,
        state)` gives those instances' configuration evaluated against the live state."""
        self.directory = directory
        self.doc: dict[str, Any] = dict(planned)
        self.enabled = bool(planned.get("services"))
        self.addresses = dict(machine_addresses)
        self.evaluate = evaluate
        self.unresolved = {n for n, m in (planned.get("machines") or {}).items()
                           if not is_known(m.get("address")) and n in self.addresses}

    def write(self) -> None:
        if not self.enabled:
            return
        try:
            write_inventory(self.directory, self.doc)
        except OSError as e:
            raise ReconcilerError(f"cannot write inventory.json: {e.strerror}") from None

    def resolve(self, state: StateDoc) -> None:
        """Fill in the member addresses now known, and write the file if any were."""
        if not self.enabled or not self.unresolved:
            return
        names = sorted(self.unresolved)
        configs = self.evaluate([self.addresses[n] for n in names], state)
        found = {}
        for name in names:
            host = configs.get(self.addresses[name], {}).get("target_host")
            if is_known(host) and host is not None:
                found[name] = host
        if found:
            self.doc = with_addresses(self.doc, found)
            self.unresolved -= set(found)
            self.write()
