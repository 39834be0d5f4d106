"""The library: everything the commands do, callable from Python (a GitOps bot calls these instead of a
subprocess). `load` reads a configuration directory once into a `Workspace` (its one `Model`, variables,
provider settings and state backend); `plan`, `apply`, `refresh`, `machines_install`, `machines_update`,
`import_resource`, `state_rm` and `state_push` work on it. Only this module writes state (through the
backend, under its lock); the CLI parses arguments and prints. Hooks (reconciler.apply.hooks) report each
step of an apply to whoever listens.

    from reconciler import api
    ws = api.load("fleet/", {"gpu_enabled": True})
    plan = api.plan(ws)
    if plan.has_changes:
        result = api.apply(ws, plan)
        assert result.ok, result.failed
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from providers.base import ImportRequest, ProviderFactory
from reconciler.actions import Action
from reconciler.apply.hooks import Hooks, NoHooks
from reconciler.apply.result import WalkResult
from reconciler.cli import context as ctx
from reconciler.config.scope import machine_name, split_address
from reconciler.config.variables import VarSources
from reconciler.errors import ReconcilerError, StateError
from reconciler.plan.configmodel import Model
from reconciler.plan.model import Plan
from reconciler.plan.planfile import check_fresh
from reconciler.plan.planner import Planner, PlanOptions
from reconciler.reasons import Reason
from reconciler.registry import ProviderSet
from reconciler.state.backend import Backend
from reconciler.state.document import ResourceState, StateDoc

__all__ = ["Hooks", "NoHooks", "Plan", "PlanOptions", "WalkResult", "Workspace", "apply", "apply_async",
           "import_resource", "install_plan", "load", "machines_install", "machines_update", "plan", "plan_async",
           "plan_offline", "read_state", "refresh", "run", "state_push", "state_rm", "update_plan", "validate"]
DEFAULT_OPTIONS = PlanOptions()
T = TypeVar("T")

if TYPE_CHECKING:
    import asyncio


def run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, imported here: what runs offline (`validate`, a plan without refresh) never starts an
    event loop nor pays for asyncio's import."""
    import asyncio

    return asyncio.run(coro)


@dataclass(frozen=True)
class Workspace:
    """A loaded configuration: its model, provider settings, state backend and how providers are made."""

    model: Model
    provider_settings: Mapping[str, Mapping[str, Any]]
    backend: Backend
    factories: Mapping[str, ProviderFactory] | None = None
    lock_timeout: float = 0.0

    @property
    def directory(self) -> Path:
        return self.model.directory

    def providers(self, lineage: str, *, offline: bool = False) -> ProviderSet:
        if not offline:
            ctx.check_running(self.directory)  # a stopped sandbox is named at once, not after retries
        return ProviderSet(dict(self.factories or ctx.default_factories()), dict(self.provider_settings), lineage,
                           self.directory)


def load(directory: str | Path, variables: Mapping[str, Any] | None = None, *, sources: VarSources | None = None,
         snapshot: Mapping[str, str] | None = None, require_all: bool = True,
         factories: Mapping[str, ProviderFactory] | None = None, lock_timeout: float = 0.0) -> Workspace:
    """Read and check the configuration in `directory`. `variables` are taken as given (a saved plan's);
    otherwise they are resolved from `sources` (--var, --var-file, TF_VAR_ and defaults)."""
    if variables is not None and sources is None and snapshot is None:
        sources = VarSources(cli=tuple(f"{k}={_var_text(v)}" for k, v in variables.items()), env={})
        variables = None
    loaded = ctx.load(Path(directory), sources or VarSources(env={}), snapshot=snapshot, variables=variables,
                      require_all=require_all)
    model = Model(loaded.config, loaded.variables)
    return Workspace(model, loaded.provider_settings, ctx.backend_for(loaded.config, loaded.variables), factories,
                     lock_timeout)


def _var_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


_held: dict[int, int] = {}  # id(backend) -> depth: a lock this process holds is not taken twice


@contextlib.contextmanager
def locked(ws: Workspace, operation: str) -> Iterator[None]:
    """Hold the state lock; re-entrant, so a caller may hold it across a plan and the apply that follows
    (as Terraform's apply does) while the library's own calls take it too."""
    key = id(ws.backend)
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    info = ws.backend.lock(operation, ws.lock_timeout)
    _held[key] = 1
    try:
        yield
    finally:
        del _held[key]
        ws.backend.unlock(info)


def read_state(ws: Workspace) -> StateDoc:
    return ws.backend.read()


# ---------------------------------------------------------------------------------------------------- plan
async def plan_async(ws: Workspace, options: PlanOptions = DEFAULT_OPTIONS, state: StateDoc | None = None) -> Plan:
    """A plan against `state` (default: the state read now)."""
    if not options.refresh or options.validate_only:
        return plan_offline(ws, options, state)
    from reconciler.config.outputs import check_outputs

    check_outputs(ws.model.config, ws.model.variables)
    state = ws.backend.read() if state is None else state
    providers = ws.providers(state.lineage)
    try:
        return await Planner(ws.model, providers, ws.provider_settings).plan(state, options)
    finally:
        await providers.close()


def plan_offline(ws: Workspace, options: PlanOptions = DEFAULT_OPTIONS, state: StateDoc | None = None) -> Plan:
    """A plan against `state` as recorded, without asking the providers (no refresh, no event loop). The
    providers only plan and price, which opens nothing, so there is nothing to close after."""
    from reconciler.config.outputs import check_outputs

    check_outputs(ws.model.config, ws.model.variables)
    state = ws.backend.read() if state is None else state
    providers = ws.providers(state.lineage, offline=True)
    return Planner(ws.model, providers, ws.provider_settings).plan_offline(state, options)


def plan(ws: Workspace, options: PlanOptions = DEFAULT_OPTIONS) -> Plan:
    # reading needs no lock (every write is an atomic rename or one transaction): a plan without refresh
    # takes none, so a read-only state folder can still be planned against
    if not options.refresh:
        return plan_offline(ws, options)
    with locked(ws, "plan"):
        state = ws.backend.read()
        return run(plan_async(ws, options, state))


def validate(ws: Workspace) -> None:
    """Evaluate and schema-check everything, offline; raises ConfigErrors naming file and line."""
    plan_offline(ws, PlanOptions(refresh=False, validate_only=True), StateDoc(lineage="", exists=False))


# ---------------------------------------------------------------------------------------------------- apply
async def apply_async(ws: Workspace, plan: Plan, hooks: Hooks | None = None, *, parallelism: int = 10,
                      stop: asyncio.Event | None = None, connect_to: Mapping[str, str] | None = None,
                      expect: StateDoc | None = None) -> WalkResult:
    """Carry out `plan`, writing state after every step. The state must still be the one the plan was made
    against (a saved plan is refused otherwise); `expect` is the state a caller planned from, if it did."""
    from reconciler.apply.journal import StateWriter
    from reconciler.apply.runner import ApplyOptions, Runner

    with locked(ws, "apply"):
        state = ws.backend.read()
        if expect is not None:
            if (state.exists, state.lineage if state.exists else "", state.serial) != \
                    (expect.exists, expect.lineage if expect.exists else "", expect.serial):
                raise ReconcilerError("the state changed while planning", hint="run the command again")
        else:
            check_fresh(plan, state)
        doc = state if state.exists else StateDoc(lineage=plan.lineage, exists=False)
        providers = ws.providers(doc.lineage)
        writer = StateWriter(ws.backend, doc, keep_dir=ws.directory / ".reconciler" / "refused")
        runner = Runner(plan, ws.model, providers, writer, hooks or NoHooks(),
                        ApplyOptions(parallelism=parallelism), connect_to=connect_to)
        try:
            return await runner.run(stop)
        finally:
            await providers.close()


def apply(ws: Workspace, plan: Plan, hooks: Hooks | None = None, *, parallelism: int = 10) -> WalkResult:
    return run(apply_async(ws, plan, hooks, parallelism=parallelism))


def record_refresh(ws: Workspace, plan: Plan) -> StateDoc | None:
    """Nothing to do, but what the plan's refresh found (vanished or adopted objects) goes into state; the
    state written, or None when there was nothing to record."""
    if plan.refreshed_state is None:
        return None
    with locked(ws, "refresh"):
        state = ws.backend.read()
        if not state.exists and not plan.drift:
            return None
        check_fresh(plan, state)
        refreshed = StateDoc.loads_json(plan.refreshed_state)
        return ws.backend.write(dataclasses.replace(state, resources=refreshed.resources))


def refresh(ws: Workspace) -> Plan:
    """`plan --refresh-only`, with what it found recorded in state; the plan tells what drifted."""
    found = plan(ws, PlanOptions(refresh_only=True))
    record_refresh(ws, found)
    return found


# ---------------------------------------------------------------------------------------------------- machines
def install_plan(ws: Workspace, name: str, state: StateDoc) -> Plan:
    """The plan `machines install NAME` carries out: what the machine stands on, and its install (`>`)."""
    found = plan_offline(ws, PlanOptions(refresh=False), state)
    address = _machine_address(found, name)
    targeted = plan_offline(ws, PlanOptions(refresh=False, targets=(address,)), state)
    change = targeted.change(address)
    if change.action is not Action.INSTALL:
        change = dataclasses.replace(change, action=Action.INSTALL, reason=Reason.INSTALL_NEW_HOST)
    return dataclasses.replace(targeted, changes=tuple(change if c.address == address else c
                                                       for c in targeted.changes))


def install_connect(p: Plan, name: str, target_host: str | None) -> dict[str, str]:
    """`--target-host H` as the runner takes it: machine address -> where to reach it for this apply."""
    return {_machine_address(p, name): target_host} if target_host else {}


def machines_install(ws: Workspace, name: str, *, target_host: str | None = None, hooks: Hooks | None = None,
                     parallelism: int = 10) -> tuple[Plan, WalkResult]:
    """Install NixOS on machine `name` (and make what it stands on); `target_host` ("[user@]host[:port]")
    is where to reach it for this install alone: the configured address is what state records."""
    state = ws.backend.read()
    the_plan = install_plan(ws, name, state)
    result = run(apply_async(ws, the_plan, hooks, parallelism=parallelism,
                                     connect_to=install_connect(the_plan, name, target_host), expect=state))
    return the_plan, result


def update_plan(ws: Workspace, names: Sequence[str], state: StateDoc) -> tuple[Plan, list[str]]:
    """The updates (`^`) of the named machines (none: every machine not marked require_explicit_update),
    and the machines left out because they are not installed yet."""
    from reconciler.nixos import machines_to_update

    full = plan_offline(ws, PlanOptions(refresh=False), state)
    machines = {machine_name(c.address): c for c in full.changes if c.kind == "machine"}
    attrs = {n: dict(c.after if c.after is not None else c.before or {}) for n, c in machines.items()}
    chosen = {machines[n].address for n in machines_to_update(attrs, list(names))}
    keep = [c for c in full.changes if c.address in chosen and c.action is Action.NIXOS_UPDATE]
    skipped = sorted(c.address for c in full.changes if c.address in chosen and c.action is Action.INSTALL)
    return dataclasses.replace(full, changes=tuple(keep)), skipped


def machines_update(ws: Workspace, names: Sequence[str] = (), *, hooks: Hooks | None = None,
                    parallelism: int = 10) -> tuple[Plan, WalkResult | None]:
    """Update NixOS on the named machines (see update_plan); None when there was nothing to update."""
    state = ws.backend.read()
    the_plan, _ = update_plan(ws, names, state)
    if not the_plan.has_changes:
        return the_plan, None
    return the_plan, run(apply_async(ws, the_plan, hooks, parallelism=parallelism, expect=state))


def _machine_address(p: Plan, name: str) -> str:
    machines = {machine_name(c.address): c.address for c in p.changes if c.kind == "machine"}
    if name not in machines:
        raise ReconcilerError(f'no machine "{name}"', hint="machines: " + (", ".join(sorted(machines)) or "none"))
    return machines[name]


# ---------------------------------------------------------------------------------------------------- state
def import_resource(ws: Workspace, address: str, id_: str) -> ResourceState:
    """Adopt an existing object into state at `address` (which the configuration must declare)."""
    base, _ = split_address(address)
    decl = ws.model.decls.resources.get(base)
    if decl is None:
        raise ReconcilerError(f"{address} is not in the configuration",
                              hint=f'add resource "{base.split(".")[0]}" "{base.split(".", 1)[-1]}" {{...}} first')
    with locked(ws, "import"):
        state = ws.backend.read()
        if address in state.resources:
            raise StateError(f"{address} is already in state", hint="reconciler state rm it first")
        providers = ws.providers(state.lineage)

        async def fetch() -> ResourceState:
            try:
                obs = await providers.for_type(decl.type).import_resource(ImportRequest(address, decl.type, id_))
            finally:
                await providers.close()
            return ResourceState(address, decl.type, obs.id, dict(obs.attributes), dict(obs.private))

        res = run(fetch())
        ws.backend.write(state.with_resource(res))
    return res


def state_rm(backend: Backend, addresses: Sequence[str], lock_timeout: float = 0.0) -> StateDoc:
    """Forget resources (the real objects, if any, are untouched)."""
    info = backend.lock("state rm", lock_timeout)
    try:
        doc = backend.read()
        missing = [a for a in addresses if a not in doc.resources]
        if missing:
            raise StateError(f"no resource {missing[0]} in state", hint="see reconciler state list")
        for a in addresses:
            doc = doc.without(a)
        return backend.write(doc)
    finally:
        backend.unlock(info)


def state_push(backend: Backend, new: StateDoc, where: str, *, force: bool = False,
               lock_timeout: float = 0.0) -> StateDoc:
    """Replace the state with `new`, refusing another lineage or an older serial unless `force`."""
    info = backend.lock("state push", lock_timeout)
    try:
        doc = backend.read()
        if doc.exists and new.lineage != doc.lineage and not force:
            raise StateError(f"{where} has lineage {new.lineage}, the state has {doc.lineage}",
                             hint="pass --force to replace a state of another lineage")
        if doc.exists and new.serial < doc.serial and not force:
            raise StateError(f"{where} has serial {new.serial}, older than the state's {doc.serial}",
                             hint="pass --force to go back")
        return backend.write(new, base=doc)
    finally:
        backend.unlock(info)
