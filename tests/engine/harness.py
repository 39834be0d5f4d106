"""Run plan and apply in-process against the fakes, the way the CLI wires them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from reconciler.apply.hooks import NoHooks
from reconciler.apply.journal import StateWriter
from reconciler.apply.result import WalkResult
from reconciler.apply.runner import ApplyOptions, Runner
from reconciler.cli import context as ctx
from reconciler.config.variables import VarSources
from reconciler.plan.configmodel import Model
from reconciler.plan.model import Plan
from reconciler.plan.planner import Planner, PlanOptions
from reconciler.registry import ProviderSet
from reconciler.state.document import StateDoc
from reconciler.state.local import LocalBackend
from tests.fakes import Cloud, factories


class CountingBackend(LocalBackend):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[StateDoc] = []

    def write(self, doc: StateDoc, *, base: StateDoc | None = None) -> StateDoc:
        written = super().write(doc, base=base)
        self.writes.append(written)
        return written


def write_config(directory: Path, text: str, name: str = "main.tf") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    return directory


def _providers(loaded: ctx.Loaded, lineage: str, world: Cloud) -> ProviderSet:
    return ProviderSet(factories(world), loaded.provider_settings, lineage, loaded.config.directory)


def plan(directory: Path, world: Cloud, *, var: tuple[str, ...] = (), refresh: bool = True,
         destroy: bool = False, targets: tuple[str, ...] = ()) -> Plan:
    loaded = ctx.load(directory, VarSources(cli=var, env={}))
    state = LocalBackend(directory / ctx.DEFAULT_STATE).read()
    planner = Planner(Model(loaded.config, loaded.variables), _providers(loaded, state.lineage, world),
                      loaded.provider_settings)
    return asyncio.run(planner.plan(state, PlanOptions(refresh=refresh, destroy=destroy, targets=targets)))


def apply(directory: Path, world: Cloud, the_plan: Plan, *, hooks: Any = None,
          parallelism: int = 10) -> tuple[WalkResult, CountingBackend]:
    loaded = ctx.load(directory, VarSources(env={}), snapshot=the_plan.config, variables=the_plan.variables)
    backend = CountingBackend(directory / ctx.DEFAULT_STATE)
    state = backend.read()
    doc = state if state.exists else StateDoc(lineage=the_plan.lineage, exists=False)
    providers = _providers(loaded, doc.lineage, world)
    runner = Runner(the_plan, Model(loaded.config, loaded.variables), providers, StateWriter(backend, doc),
                    hooks or NoHooks(), ApplyOptions(parallelism=parallelism))
    return asyncio.run(runner.run()), backend


def state_of(directory: Path) -> StateDoc:
    return LocalBackend(directory / ctx.DEFAULT_STATE).read()
