"""Carry out a plan: build the action graph, walk it, run each step through its provider with a
write-ahead journal, keep state written after every step, then record outputs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from providers.base import ApplyRequest, MachineProvider, PlanRequest, RefreshRequest, ResourceKind
from reconciler.actions import Action
from reconciler.apply.hooks import Hooks
from reconciler.apply.inventory_file import InventoryFile
from reconciler.apply.journal import Outcome, StateWriter, StepJournal, WriteAheadExecutor, mark_outcome
from reconciler.apply.reevaluate import Reevaluator, inconsistencies
from reconciler.apply.walker import WalkResult, walk
from reconciler.config.scope import machine_name
from reconciler.errors import ConfigError, ConfigErrors, ReconcilerError
from reconciler.plan.configmodel import Model
from reconciler.plan.graph import build_graph
from reconciler.plan.model import Plan, ResourceChange
from reconciler.plan.refresh import recorded
from reconciler.registry import ProviderSet
from reconciler.state.document import ResourceState, StateDoc
from reconciler.values import UNKNOWN, is_known, strip_unknown

MAX_THREADS = 32  # threads for blocking provider calls: enough to keep requests in flight, few enough that starting
# them and sharing the GIL does not stall the event loop (measured by bench/apply_scale.py)


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 10


class InconsistentPlanError(ReconcilerError):
    pass


class Runner:
    def __init__(self, plan: Plan, model: Model, providers: ProviderSet, writer: StateWriter,
                 hooks: Hooks, options: ApplyOptions, connect_to: Mapping[str, str] | None = None) -> None:
        self.plan = plan
        self.model = model
        self.providers = providers
        self.writer = writer
        self.hooks = hooks
        self.options = options
        self.changes = {c.address: c for c in plan.changes}
        self.reeval = Reevaluator(model, plan)
        self.connect_to = dict(connect_to or {})  # machine address -> where to reach it for this apply only
        machines = {machine_name(c.address): c.address for c in plan.changes if c.kind == ResourceKind.MACHINE.value}
        self.inventory = InventoryFile(model.directory, plan.inventory, machines, self.reeval.evaluate_many)

    async def run(self, stop: asyncio.Event | None = None) -> WalkResult:
        try:
            if self.plan.refreshed_state is not None:
                self._adopt_refreshed()
            self.inventory.write()
            self._size_threads()
            graph = build_graph(self.plan)
            limits = {name: self.providers.get(name).max_parallel
                      for name in {self.changes[n].provider for n in graph.nodes if n in self.changes}}
            result = await walk(graph, self._step, parallelism=self.options.parallelism,
                                group_of=self._group, group_limits=limits, stop=stop, on_skip=self._on_skip)
            # barrier nodes only order steps: they are no step of their own in what is reported
            result.done = [n for n in result.done if n in self.changes]
            result.not_started = [n for n in result.not_started if n in self.changes]
            result.skipped = {n: cause for n, cause in result.skipped.items() if n in self.changes}
            if self.writer.refused is not None:  # a run whose writes are refused has said so once per step
                return result
            try:
                # a failing output fails an apply whose steps all succeeded (ConfigErrors), as in Terraform
                self._write_outputs(fail_on_error=result.ok)
            finally:
                self.inventory.resolve(self.writer.doc)
                await self.writer.durable()
            return result
        finally:
            self.writer.close()  # what an interrupted walk changed still reaches the disk

    def _size_threads(self) -> None:
        """Providers make their blocking calls through the loop's default executor (asyncio.to_thread): make it
        write-ahead (a call waits until the state changed before it is on disk) and as wide as the steps that
        may run at once, up to MAX_THREADS, so threads are not a hidden, lower limit."""
        workers = min(max(1, self.options.parallelism), MAX_THREADS) + 4
        executor = WriteAheadExecutor(self.writer, workers)
        executor.warm(len(self.changes))
        asyncio.get_running_loop().set_default_executor(executor)

    def _group(self, node: str) -> str:
        c = self.changes.get(node)
        return c.provider if c is not None else ""

    def _on_skip(self, node: str, cause: str) -> None:
        if node in self.changes:  # a barrier node (plan/graph.py) is no step of its own
            self.hooks.on_skip(node, cause)

    def _adopt_refreshed(self) -> None:
        """Persist what the plan's refresh found (adoptions, vanished objects) before acting on it (nothing to
        write when it found what state already holds)."""
        refreshed = StateDoc.loads_json(self.plan.refreshed_state) if self.plan.refreshed_state else None
        if refreshed is not None and refreshed.resources != self.writer.doc.resources:
            self.writer.update(lambda d: replace(d, resources=refreshed.resources))

    # ------------------------------------------------------------------------------------ one step
    async def _step(self, address: str) -> None:
        change = self.changes.get(address)
        if change is None:  # a barrier node: only orders the steps around it
            return
        self.hooks.pre_step(address, change.action)
        started = time.monotonic()
        error: BaseException | None = None
        try:
            await self._execute(change)
            await self.writer.durable()  # a step is done when what it recorded is on disk
        except BaseException as e:
            error = e
            raise
        finally:
            self.hooks.post_step(address, change.action, error, time.monotonic() - started)

    async def _execute(self, c: ResourceChange) -> None:
        prior = self.writer.get(c.address)
        if c.action is Action.DORMANT:  # an installed machine whose VM goes away: forget the install
            provider = self.providers.for_type(c.type)
            if prior is not None and isinstance(provider, MachineProvider):
                kept = provider.forget_install(recorded(prior))
                self.writer.put(replace(prior, attributes=dict(kept.attributes), private=dict(kept.private)))
            return
        if c.action is Action.DELETE:
            if prior is None or prior.id is None or c.kind == ResourceKind.MACHINE.value:
                self.writer.drop(c.address)
                return
            await self._call(c, Action.DELETE, dict(prior.attributes), prior)
            return
        config = self.reeval.evaluate(c.address, self.writer.doc)
        if c.kind == ResourceKind.MACHINE.value:
            self.inventory.resolve(self.writer.doc)
        drift = inconsistencies(c.config, config)
        if drift:
            raise InconsistentPlanError(f"{c.address}: {', '.join(drift)} changed since the plan was made",
                                        hint="run reconciler plan again")
        if not is_known(config):
            missing = sorted(k for k, v in config.items() if not is_known(v))
            raise ReconcilerError(f"{c.address}: {', '.join(missing)} still unknown at apply time")
        planned = self._final_plan(c, config, prior)
        if c.action is Action.REPLACE:
            if prior is not None and prior.id is not None and not c.create_before_destroy:
                await self._call(c, Action.DELETE, dict(prior.attributes), prior)
                prior = self.writer.get(c.address)
            old = prior
            await self._call(c, Action.CREATE, planned, None)
            if c.create_before_destroy and old is not None and old.id is not None:
                await self._delete_deposed(c, old)
            return
        # a create has no prior object; one an interrupted attempt made is found again through `pending`
        await self._call(c, c.action, planned, None if c.action is Action.CREATE else prior)

    async def _delete_deposed(self, c: ResourceChange, old: ResourceState) -> None:
        """Create-before-destroy: delete the old object once its replacement is recorded. The delete's
        write-ahead record (a provider may journal an operation id) sits on the address meanwhile, and is
        cleared when the delete is done: the address then holds the new object alone."""
        current = self.writer.get(c.address)
        await self.providers.for_type(c.type).apply(
            ApplyRequest(c.address, c.type, Action.DELETE, dict(old.attributes), recorded(old)),
            StepJournal(self.writer, c.address, c.type, Action.DELETE, c.dependencies,
                        lambda p: self.hooks.on_phase(c.address, p)))
        if current is not None:
            self.writer.put(replace(current, pending=None))

    async def _forget_if_never_made(self, c: ResourceChange) -> None:
        """A create failed after its id was recorded (e.g. the operation failed on quota): if the object does not
        exist, drop the record, so state, plans and costs do not speak of something that never was."""
        current = self.writer.get(c.address)
        if current is None or current.id is None:
            return
        try:
            answer = await self.providers.for_type(c.type).refresh(RefreshRequest((recorded(current),), ()))
        except Exception:  # the step already failed; its own error is the one to report
            return
        if c.address in answer.gone:
            self.writer.drop(c.address)

    def _final_plan(self, c: ResourceChange, config: Mapping[str, Any], prior: ResourceState | None) -> dict[str, Any]:
        """Ask the provider to plan again with every value known, and hold it to what the plan said.

        Machines are not planned again: their plan is the evaluated toplevel, which the saved plan carries
        (evaluating again here would run nix once per machine inside the walk).
        """
        if c.kind == ResourceKind.MACHINE.value:
            known = {k: v for k, v in (c.after or {}).items() if v is not UNKNOWN and k not in config}
            return {**known, **dict(config)}
        has_prior = prior is not None and prior.id is not None and c.action not in (Action.REPLACE, Action.CREATE)
        provider = self.providers.for_type(c.type)
        resp = provider.plan([PlanRequest(c.address, c.type, config, recorded(prior) if has_prior and prior
                                          else None)])[0]
        if c.action is Action.UPDATE and resp.requires_replace:
            raise InconsistentPlanError(f"{c.address}: {', '.join(resp.requires_replace)} now needs a replacement, "
                                        "but the plan said update in place", hint="run reconciler plan again")
        planned = dict(strip_unknown(dict(resp.planned)))
        if c.after is not None and c.after.get("toplevel") not in (None, UNKNOWN) and "toplevel" not in planned:
            planned["toplevel"] = c.after["toplevel"]
        return planned

    async def _call(self, c: ResourceChange, action: Action, planned: Mapping[str, Any],
                    prior: ResourceState | None) -> None:
        provider = self.providers.for_type(c.type)
        current = self.writer.get(c.address)
        pending = dict(current.pending or {}) if current is not None and current.pending else {}
        if pending.get("action") != action.value:
            pending = {}
        journal = StepJournal(self.writer, c.address, c.type, action, c.dependencies,
                              lambda p: self.hooks.on_phase(c.address, p))
        request = ApplyRequest(c.address, c.type, action, planned,
                               recorded(prior) if prior is not None and prior.id is not None else None, pending,
                               connect_to=self.connect_to.get(c.address))
        # write-ahead: state says what is about to happen before the provider is called (on disk: the writes
        # of all steps starting together are grouped into one)
        journal.intend()
        await self.writer.durable()
        try:
            response = await provider.apply(request, journal)
        except BaseException as e:
            if action is Action.CREATE:
                await self._forget_if_never_made(c)
            interrupted = isinstance(e, (asyncio.CancelledError, KeyboardInterrupt))
            mark_outcome(self.writer, c.address, Outcome.INTERRUPTED if interrupted else Outcome.FAILED)
            raise
        if response.id is None:
            self.writer.drop(c.address)
            return
        self.writer.put(ResourceState(c.address, c.type, response.id, dict(response.attributes),
                                      dict(response.private), c.dependencies, None))

    # ------------------------------------------------------------------------------------ outputs
    def _write_outputs(self, fail_on_error: bool) -> None:
        from reconciler.config.evaluator import evaluate

        model = self.model
        if not model.decls.outputs:
            return
        doc = self.writer.doc
        resources = doc.resources
        # a for_each member toggled off is simply not in the map
        scope = model.scope(lambda s: dict(resources[s.address].attributes) if s.address in resources else None,
                            present=lambda s: s.address in resources)
        # declarations with an instance that is not there (toggled off, dormant, failed)
        absent = {decl for decl, specs in model.expansions().items() if any(s.address not in resources for s in specs)}
        outputs: dict[str, dict[str, Any]] = {}
        failed: list[ReconcilerError] = []
        for name, out in sorted(model.decls.outputs.items()):
            try:
                value = evaluate(out.expr, scope)
            except ReconcilerError as e:
                if _refers_to(out.expr, absent):  # it reads a resource that is not running now: null
                    outputs[name] = {"value": None, "sensitive": out.sensitive}
                    continue
                failed.append(e)  # the others are recorded; this one keeps its last value
                if name in doc.outputs:
                    outputs[name] = dict(doc.outputs[name])
                continue
            outputs[name] = {"value": None if value is UNKNOWN else value, "sensitive": out.sensitive}
        self.writer.update(lambda d: d.with_outputs(outputs))
        if failed and fail_on_error:
            raise ConfigErrors([e if isinstance(e, ConfigError) else ConfigError(str(e)) for e in failed])


def _refers_to(expr: Any, addresses: set[str]) -> bool:
    from reconciler.config.refs import expr_references

    return any(f"{r.root}.{r.steps[0]}" in addresses for r in expr_references(expr) if r.steps)
