"""The plan as a value: resource changes with their actions and reasons, and what a saved plan must carry
to be applied exactly (the configuration snapshot, variables, and the state serial and lineage it was made
against)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.actions import Action
from reconciler.plan.drift import Drift
from reconciler.reasons import Reason

PLAN_FORMAT = "reconciler-plan"
PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ResourceChange:
    """What the plan does to one resource, and why."""
    address: str
    type: str
    name: str
    provider: str
    kind: str  # "cloud" | "machine"
    action: Action
    reason: Reason
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None  # may hold UNKNOWN
    dependencies: tuple[str, ...] = ()  # instance addresses this one depends on
    requires_replace: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # attribute names whose value changes
    notes: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    dormant_because: str | None = None
    create_before_destroy: bool = False
    config: Mapping[str, Any] | None = None  # the evaluated configuration the plan was made from


@dataclass(frozen=True)
class OutputChange:
    """An output's recorded value and its value after the plan (may hold UNKNOWN)."""

    name: str
    before: Any
    after: Any
    sensitive: bool = False
    recorded: bool = False  # state has a value for it (a create otherwise)


@dataclass(frozen=True)
class CostLine:
    """The monthly cost of one currency before and after the plan."""
    currency: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Cost:
    """Monthly cost of the recorded fleet (before) and the planned one (after), per currency."""

    lines: tuple[CostLine, ...]
    unpriced: tuple[str, ...] = ()  # addresses with no known price
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, repr=False)
class Plan:
    """A plan: the changes, the state and configuration it was made from, and what it will cost."""
    lineage: str
    serial: int
    state_exists: bool
    changes: tuple[ResourceChange, ...]
    config: Mapping[str, str]  # file name -> text
    variables: Mapping[str, Any]
    sensitive_variables: frozenset[str] = frozenset()
    targets: tuple[str, ...] = ()
    destroy: bool = False
    refreshed: bool = False
    cost: Cost | None = None
    after_edges: tuple[tuple[str, str], ...] = ()  # inventory `after`: (first, then) machine addresses
    inventory: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    refreshed_state: Mapping[str, Any] | None = None  # state content after refresh (adoptions), if refreshed
    drift: tuple[Drift, ...] = ()  # what the refresh found changed outside reconciler
    warnings: tuple[str, ...] = ()
    refresh_only: bool = False
    outputs: tuple[OutputChange, ...] = ()
    configuration: Mapping[str, Any] = field(default_factory=dict)  # Terraform's `configuration` object

    def __repr__(self) -> str:
        # short on purpose: asyncio reprs a finished task's result in places (Python 3.11's Runner), and the
        # generated repr of a 10,000-resource plan took half a second
        return f"Plan(lineage={self.lineage!r}, serial={self.serial}, changes={len(self.changes)})"

    def change(self, address: str) -> ResourceChange:
        for c in self.changes:
            if c.address == address:
                return c
        raise KeyError(address)

    @property
    def has_changes(self) -> bool:
        return any(c.action.is_change for c in self.changes)

    def counts(self) -> dict[str, int]:
        n = {"add": 0, "change": 0, "destroy": 0, "install": 0, "update": 0}
        for c in self.changes:
            if c.action is Action.CREATE:
                n["add"] += 1
            elif c.action is Action.UPDATE:
                n["change"] += 1
            elif c.action is Action.DELETE:
                n["destroy"] += 1
            elif c.action is Action.REPLACE:
                n["add"] += 1
                n["destroy"] += 1
            elif c.action is Action.INSTALL:
                n["install"] += 1
            elif c.action is Action.NIXOS_UPDATE:
                n["update"] += 1
        return n
