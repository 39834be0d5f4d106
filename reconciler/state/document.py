"""The state document: `version`, `serial`, `lineage`, resources by address, outputs.

A `StateDoc` is an immutable value; every change makes a new one (`with_resource`, `without`). `serial`
moves only when a write really changes the content (`bump_if_changed`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

STATE_VERSION = 1


@dataclass(frozen=True)
class ResourceState:
    """One resource instance as recorded.

    `pending` is the write-ahead record of a step that started and did not finish (what it intended and
    which action); it is cleared when the step completes. For machines, `attributes` hold the deployed
    `toplevel` and the pinned `host_key`; `private` is the provider's own (e.g. the install phase reached).
    """

    address: str
    type: str
    id: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    private: Mapping[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    pending: Mapping[str, Any] | None = None

    @cached_property
    def text(self) -> str:
        """`to_json()` as `StateDoc.dumps` writes it, at its depth: made once per value, so a write of many
        resources serialises only those that changed since the last one."""
        return json.dumps(self.to_json(), indent=2).replace("\n", "\n    ")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "id": self.id, "attributes": dict(self.attributes)}
        if self.private:
            out["private"] = dict(self.private)
        if self.dependencies:
            out["dependencies"] = list(self.dependencies)
        if self.pending is not None:
            out["pending"] = dict(self.pending)
        return out

    @staticmethod
    def from_json(address: str, data: Mapping[str, Any]) -> ResourceState:
        return ResourceState(
            address=address, type=data["type"], id=data.get("id"),
            attributes=data.get("attributes", {}), private=data.get("private", {}),
            dependencies=tuple(data.get("dependencies", ())), pending=data.get("pending"),
        )


@dataclass(frozen=True)
class StateDoc:
    """The whole state: resources by address, outputs, and the lineage and serial that order its writes."""
    lineage: str
    serial: int = 0
    resources: Mapping[str, ResourceState] = field(default_factory=dict)
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exists: bool = True  # False: nothing was ever written (a fresh lineage, serial 0)

    @staticmethod
    def new() -> StateDoc:
        import uuid  # here: validate, which plans against no state, does not load it

        return StateDoc(lineage=str(uuid.uuid4()), exists=False)

    def with_resource(self, res: ResourceState) -> StateDoc:
        resources = dict(self.resources)
        resources[res.address] = res
        return replace(self, resources=resources)

    def without(self, address: str) -> StateDoc:
        resources = dict(self.resources)
        resources.pop(address, None)
        return replace(self, resources=resources)

    def with_outputs(self, outputs: Mapping[str, Mapping[str, Any]]) -> StateDoc:
        return replace(self, outputs=dict(outputs))

    def content(self) -> dict[str, Any]:
        """Everything but serial: what decides whether a write changes anything."""
        return {
            "resources": {a: self.resources[a].to_json() for a in sorted(self.resources)},
            "outputs": {k: dict(v) for k, v in sorted(self.outputs.items())},
        }

    def to_json(self) -> dict[str, Any]:
        from reconciler import __version__

        return {"version": STATE_VERSION, "serial": self.serial, "lineage": self.lineage,
                "reconciler_version": __version__, **self.content()}

    def dumps(self) -> str:
        """The same text as `json.dumps(self.to_json(), indent=2)` (plus a newline), each resource's part taken
        from `ResourceState.text`."""
        from reconciler import __version__

        head = {"version": STATE_VERSION, "serial": self.serial, "lineage": self.lineage,
                "reconciler_version": __version__}
        parts = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
        resources = ",\n    ".join(f"{json.dumps(a)}: {self.resources[a].text}" for a in sorted(self.resources))
        parts.append(f'"resources": {{\n    {resources}\n  }}' if resources else '"resources": {}')
        outputs = {k: dict(v) for k, v in sorted(self.outputs.items())}
        parts.append(f'"outputs": {json.dumps(outputs, indent=2).replace(chr(10), chr(10) + "  ")}')
        return "{\n  " + ",\n  ".join(parts) + "\n}\n"

    def same_content(self, other: StateDoc) -> bool:
        """`content()` equal, without building it: records are values, and a write usually shares all but a
        few of them with the document it replaces, so only records that are not the same object are compared."""
        mine, theirs = self.resources, other.resources
        if mine.keys() != theirs.keys():
            return False
        for address, record in mine.items():
            was = theirs[address]
            if record is not was and record.to_json() != was.to_json():
                return False
        return {k: dict(v) for k, v in self.outputs.items()} == {k: dict(v) for k, v in other.outputs.items()}

    def bump_if_changed(self, previous: StateDoc | None) -> StateDoc:
        if previous is not None and previous.exists and previous.lineage == self.lineage \
                and self.same_content(previous):
            return replace(self, serial=previous.serial, exists=True)
        base = previous.serial if previous is not None else self.serial
        return replace(self, serial=base + 1, exists=True)

    @staticmethod
    def loads_json(data: Mapping[str, Any]) -> StateDoc:
        return StateDoc.loads(json.dumps(data), "saved plan")

    @staticmethod
    def loads(text: str | bytes, where: str) -> StateDoc:
        """The document in `text`, checked against schemas/state.json first (StateError: one line)."""
        from reconciler.state.validate import decode

        data = decode(text, where)
        resources = {a: ResourceState.from_json(a, r) for a, r in data.get("resources", {}).items()}
        return StateDoc(lineage=data["lineage"], serial=data["serial"], resources=resources,
                        outputs=data.get("outputs", {}), exists=True)
