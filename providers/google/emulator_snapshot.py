"""The emulated projects' instances as plain JSON and back, so that `reconciler sandbox down` and `up` bring
the same instances back (same names, ids, addresses, labels, metadata). Operations still running are finished
first (their effects applied); operations are not kept."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from providers.google.emulator_model import ComputeModel, _Instance
from providers.google.emulator_resources import Usage


def snapshot(model: ComputeModel) -> dict[str, Any]:
    model.settle()
    with model.cond:
        return {"projects": {
            name: {"instances": [{"zone": zone, "name": inst_name, "resource": inst.resource,
                                  "usage": {**asdict(inst.usage), "gpus": dict(inst.usage.gpus)}}
                                 for (zone, inst_name), inst in sorted(project.instances.items())],
                   "nat_in_use": sorted(project.nat_in_use)}
            for name, project in model.projects.items()}}


def restore(model: ComputeModel, data: dict[str, Any]) -> None:
    with model.cond:
        for name, saved in data.get("projects", {}).items():
            project = model._project(name)
            for item in saved.get("instances", []):
                project.instances[(item["zone"], item["name"])] = _Instance(item["resource"], Usage(**item["usage"]))
            project.nat_in_use.update(saved.get("nat_in_use", []))
