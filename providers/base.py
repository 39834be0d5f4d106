"""The boundary between the engine and a provider: one request/response dataclass pair per call.

The engine decides every action; a provider only fills in what it alone knows: defaults and computed
attributes (`plan`), which changed attributes force a replacement, what exists (`refresh`), how to make it
so (`apply`), how to adopt an existing object (`import_resource`) and what it costs (`price`).
SDK objects never leave a provider package; every value crossing this boundary is plain data.

A provider is built from its evaluated `provider "NAME" {}` block by a `ProviderFactory` and must not touch
the network before its first `refresh`, `apply` or `import_resource` call, so `validate` and
`plan --no-refresh` work offline and without credentials.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reconciler.actions import Action
from reconciler.values import UNKNOWN, is_known

__all__ = [
    "UNKNOWN",
    "ApplyRequest",
    "ApplyResponse",
    "ConfigChecker",
    "ConfigProblem",
    "ImportRequest",
    "InstallState",
    "Journal",
    "MachineProvider",
    "MachineRecord",
    "ObservedResource",
    "PlanRequest",
    "PlanResponse",
    "Price",
    "Provider",
    "ProviderConfig",
    "ProviderFactory",
    "RecordedResource",
    "RefreshRequest",
    "RefreshResponse",
    "ResourceKind",
    "TypeInfo",
    "address_label",
    "is_known",
    "ownership_labels",
]

MANAGED_BY = "reconciler"
LABEL_MANAGED_BY = "managed-by"
LABEL_LINEAGE = "reconciler-lineage"
LABEL_ADDRESS = "reconciler-address"


class ResourceKind(Enum):
    CLOUD = "cloud"  # created/updated/deleted through an API
    MACHINE = "machine"  # a NixOS host: installed and updated, never "created"


@dataclass(frozen=True)
class TypeInfo:
    """What the engine must know about a resource type without asking the provider per resource."""

    kind: ResourceKind
    computed: frozenset[str]  # attributes only the provider can fill in (id, ipv4_address, ...)
    sensitive: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProviderConfig:
    """The evaluated `provider "NAME" {}` block plus what every provider needs to know of the run."""

    name: str
    settings: Mapping[str, Any]
    lineage: str  # the state's lineage, for ownership labels
    workdir: Path  # the configuration directory


@dataclass(frozen=True)
class RecordedResource:
    """A resource instance as state records it."""

    address: str
    type: str
    id: str | None
    attributes: Mapping[str, Any]
    private: Mapping[str, Any] = field(default_factory=dict)  # provider-only data (request ids, zone landed)


@dataclass(frozen=True)
class ObservedResource:
    """A resource instance as the provider sees it now."""

    id: str
    attributes: Mapping[str, Any]
    private: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanRequest:
    """One resource for a provider to plan: its evaluated configuration and what state recorded."""
    address: str
    type: str
    config: Mapping[str, Any]  # evaluated configuration; may hold UNKNOWN
    prior: RecordedResource | None


@dataclass(frozen=True)
class ConfigProblem:
    """One thing a provider knows the cloud would refuse in a resource's configuration, found before any
    call: `attribute` (top-level name, "" for the whole block) lets the engine name the file and line."""

    attribute: str
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class PlanResponse:
    """`planned`: the attributes after apply (defaults filled in, computed ones carried over or UNKNOWN).

    `requires_replace`: names of changed attributes that cannot change in place. `notes`: short remarks
    for the plan (e.g. "lands in the first of zones with capacity"). `warnings`: remarks for the whole plan
    (the engine adds them to the plan's warnings). `problems`: values the cloud would refuse; with any, the
    plan fails with one line per problem naming file and line.
    """

    address: str
    planned: Mapping[str, Any]
    requires_replace: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # shown once per plan under "Warning:" (e.g. a deprecated server type)
    problems: tuple[ConfigProblem, ...] = ()  # configuration errors; the engine names file and line


@runtime_checkable
class ConfigChecker(Protocol):
    """Optional: a provider that can check a configuration offline against its catalogue and the cloud's
    rules. Called at `validate` and at plan with the values known then (UNKNOWN ones are skipped)."""

    def check_config(self, address: str, type_: str, config: Mapping[str, Any]) -> list[ConfigProblem]: ...


@dataclass(frozen=True)
class RefreshRequest:
    """Every recorded instance of this provider's types, and every address the config wants.

    `wanted` lets a provider adopt an object it finds carrying our ownership labels for an address that
    state does not record (a crash between create and record).
    """

    recorded: tuple[RecordedResource, ...]
    wanted: tuple[tuple[str, str], ...]  # (address, type)


@dataclass(frozen=True)
class RefreshResponse:
    """What a refresh found of the recorded resources, and what it adopted by labels."""
    found: Mapping[str, ObservedResource]  # recorded address -> what exists now
    gone: frozenset[str]  # recorded addresses whose object no longer exists
    adopted: Mapping[str, ObservedResource] = field(default_factory=dict)  # unrecorded, found by labels
    warnings: tuple[str, ...] = ()


class Journal(Protocol):
    """Write-ahead hooks the engine hands to `apply`. Each call is written to state before it returns."""

    def intend(self, **data: Any) -> None:
        """Record what is about to be done (a request id, a name) before the mutating call is made."""

    def record(self, id: str, attributes: Mapping[str, Any], private: Mapping[str, Any] | None = None) -> None:
        """Record the provider id the moment it is known (before waiting for the object to be ready)."""

    def phase(self, name: str) -> None:
        """Report progress to the user (e.g. "waiting for action 42", "kexec"); not recorded in state.

        Anything that must survive a crash (an install phase reached) goes through `record`'s `private`.
        """


@dataclass(frozen=True)
class ApplyRequest:
    """One step for a provider to carry out."""
    address: str
    type: str
    action: Action  # CREATE, UPDATE, DELETE for clouds; INSTALL, NIXOS_UPDATE for machines
    planned: Mapping[str, Any]  # fully known configuration values at the time of the call
    prior: RecordedResource | None
    # what an earlier, interrupted attempt at this same step recorded with `journal.intend` (request ids,
    # names): reuse them so a retry after a crash is idempotent. Empty when there was no such attempt.
    pending: Mapping[str, Any] = field(default_factory=dict)
    # machines only: "[user@]host[:port]" to reach the machine at for this step alone (`machines install NAME
    # --target-host H`); the configured address is what gets recorded
    connect_to: str | None = None


@dataclass(frozen=True)
class ApplyResponse:
    """The object after the call; `id` None means it no longer exists."""

    id: str | None
    attributes: Mapping[str, Any]
    private: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportRequest:
    """Adopt an existing object under an address (`reconciler import`)."""
    address: str
    type: str
    id: str


@dataclass(frozen=True)
class Price:
    """A monthly price and where it came from."""
    monthly: float
    currency: str
    source: str  # "api /pricing 2026-11-21", "providers/google/prices.json (2026-11-01)"


class InstallState(Enum):
    """How far a machine's install got, as its provider reads its own private record."""

    NOT_STARTED = "not-started"
    PARTIAL = "partial"  # some phases done: the next install resumes after them
    DONE = "done"


@dataclass(frozen=True)
class MachineRecord:
    """A recorded machine as the engine may know it (the provider's private data stays the provider's)."""

    install: InstallState
    toplevel: str | None  # the system deployed by the last install or update
    host_key: str | None  # the pinned public host key
    running: str | None = None  # the system a refresh found running, when it looked


@runtime_checkable
class MachineProvider(Protocol):
    """What a provider of MACHINE types adds: typed records of its machines, and forgetting an install when
    the machine's host goes away (toggled off) while its identity (host key) is kept."""

    def machine_record(self, recorded: RecordedResource) -> MachineRecord: ...

    def forget_install(self, recorded: RecordedResource) -> RecordedResource: ...

    def prepare_plan(self, recorded: Sequence[RecordedResource]) -> None:
        """Called once before planning with the provider's machines as state records them: slow work the plan
        will need may start now (the NixOS provider starts evaluating the recorded flakes). Whatever it starts,
        plan() must answer for the configuration as it is."""


@runtime_checkable
class Provider(Protocol):
    name: str

    @property
    def max_parallel(self) -> int:
        """At most this many apply calls at once for this provider: what its API allows (a request budget, an
        operation limit), read when an apply's walk starts; `--parallelism` bounds all providers together."""

    def types(self) -> Mapping[str, TypeInfo]: ...

    def plan(self, requests: Sequence[PlanRequest]) -> list[PlanResponse]: ...

    async def refresh(self, request: RefreshRequest) -> RefreshResponse: ...

    async def apply(self, request: ApplyRequest, journal: Journal) -> ApplyResponse: ...

    async def import_resource(self, request: ImportRequest) -> ObservedResource: ...

    def price(self, type_: str, attributes: Mapping[str, Any]) -> Price | None: ...

    async def close(self) -> None: ...


ProviderFactory = Callable[[ProviderConfig], Provider]

_LABEL_SAFE = re.compile(r"[^a-z0-9_-]+")


def address_label(address: str) -> str:
    """A label value for an address that both Hetzner and Google accept: [a-z0-9_-], at most 63 chars,
    unique per address (a hash suffix), stable across runs."""
    digest = hashlib.sha256(address.encode()).hexdigest()[:10]
    readable = _LABEL_SAFE.sub("-", address.lower()).strip("-_")[:50]
    return f"{readable}-{digest}"


def ownership_labels(lineage: str, address: str) -> dict[str, str]:
    """The labels every object reconciler creates carries, so a refresh can find and adopt it."""
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_LINEAGE: lineage,
        LABEL_ADDRESS: address_label(address),
    }
