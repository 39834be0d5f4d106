"""Make a plan: evaluate the configuration declaration by declaration in dependency order, ask each
provider to plan its instances (one batch per provider per step, so NixOS toplevels are evaluated by one
`nix eval`), decide every action, and add deletions for what state has and the configuration no longer
wants."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from providers.base import ConfigChecker, MachineProvider, MachineRecord, PlanRequest, RecordedResource, ResourceKind
from reconciler.actions import Action
from reconciler.config.decls import ResourceDecl
from reconciler.config.evaluator import evaluate_collecting
from reconciler.config.gcpause import gc_paused
from reconciler.config.schema import block_schema
from reconciler.config.scope import ConfigScope, machine_name, split_address
from reconciler.errors import ConfigError, ConfigErrors, ReconcilerError
from reconciler.plan import decide
from reconciler.plan.configmodel import Model
from reconciler.plan.configuration import LazyConfiguration
from reconciler.plan.cost import plan_cost
from reconciler.plan.drift import Drift, drift
from reconciler.plan.expansion import (
    SAME_KEY,
    DeclDeps,
    InstanceSpec,
    collect_value,
    expand,
)
from reconciler.plan.inventory import build_inventory, changed_views, written_inventory
from reconciler.plan.model import Plan, ResourceChange
from reconciler.plan.outputs import plan_outputs
from reconciler.plan.refresh import recorded, refresh_state
from reconciler.plan.targets import apply_targets
from reconciler.reasons import Reason
from reconciler.registry import ProviderSet, provider_name
from reconciler.state.document import ResourceState, StateDoc
from reconciler.values import UNKNOWN


@dataclass(frozen=True)
class PlanOptions:
    """How to plan: refresh or not, destroy, targets, validate only, refresh only."""
    refresh: bool = True
    destroy: bool = False
    targets: tuple[str, ...] = ()
    validate_only: bool = False
    refresh_only: bool = False


@dataclass
class _Walk:
    """Mutable bookkeeping of one planning walk (never leaves this module)."""

    values: dict[str, Any]  # instance address -> planned value
    status: dict[str, str]  # instance address -> "active" | "disabled" | "dormant"
    changes: dict[str, ResourceChange]
    errors: list[ConfigError]
    warnings: dict[str, None] = field(default_factory=dict)  # the providers' plan warnings, once each, in order


_evaluate = evaluate_collecting


class Planner:
    def __init__(self, model: Model, providers: ProviderSet,
                 provider_settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.model = model
        self.decls = model.decls
        self.providers = providers
        self.provider_settings = provider_settings or {}
        self._drifted: set[str] = set()
        self._key_index: dict[str, dict[str | int | None, str]] = {}  # declaration -> instance key -> address
        self._address_index: dict[str, tuple[str, ...]] = {}
        self._machine_providers: dict[str, MachineProvider] = {}
        self._checkers: dict[str, ConfigChecker | None] = {}
        self._machine_types_found: frozenset[str] | None = None
        self._recorded_of: dict[str, tuple[ResourceState, RecordedResource]] = {}  # address -> (state, its record)

    # ------------------------------------------------------------------------------------ main walk
    async def plan(self, state: StateDoc, options: PlanOptions) -> Plan:
        """The plan, after refreshing `state` from the providers when the options ask for it."""
        if not (options.refresh or options.refresh_only) or options.validate_only:
            return self.plan_offline(state, options)
        expansions = self.model.expansions()
        wanted = [(s.address, s.decl.type) for specs in expansions.values() for s in specs]
        result = await refresh_state(state, self.providers, wanted)
        return self._plan(result.state, options, refreshed=result.state, found=drift(state, result.state),
                          warnings=result.warnings)

    def plan_offline(self, state: StateDoc, options: PlanOptions) -> Plan:
        """The plan against `state` as recorded (no refresh): it runs without an event loop, so `validate` and
        `plan --no-refresh` never start one."""
        return self._plan(state, replace(options, refresh=False), refreshed=None, found=(), warnings=())

    def _plan(self, state: StateDoc, options: PlanOptions, *, refreshed: StateDoc | None,
              found: tuple[Drift, ...], warnings: tuple[str, ...]) -> Plan:
        expansions = self.model.expansions()
        self._key_index, self._address_index = {}, {}
        if options.refresh_only:
            return replace(self._assemble(state, [], options, refreshed), drift=found, warnings=warnings,
                           refresh_only=True)
        self._drifted = {d.address for d in found if d.kind == "running"}
        # the walk builds a large graph of values that all live to the end: collecting cycles meanwhile only
        # rescans them (it was 40% of a 10,000-machine plan); reference counting still frees temporaries
        with gc_paused():
            walked = self._walk(state, expansions, options, refreshed)
            return replace(walked, drift=found, warnings=(*warnings, *walked.warnings))

    def _walk(self, state: StateDoc, expansions: dict[str, list[InstanceSpec]], options: PlanOptions,
              refreshed: StateDoc | None) -> Plan:
        walk = _Walk({}, {}, {}, [])
        resources: dict[str, dict[str, Any]] = {}
        scope = self.model.new_scope({}, resources)
        if not options.validate_only and not options.destroy:
            self._prepare_machines(state)
        for gen in self.model.graph.generations():
            self.model.evaluate_locals([n[6:] for n in gen if n.startswith("local.")], scope, walk.errors)
            decls = [self.decls.resources[n] for n in gen if n in self.decls.resources]
            self._plan_generation(decls, expansions, state, scope, walk, options)
            for decl in decls:
                resources.setdefault(decl.type, {})[decl.name] = collect_value(decl, expansions[decl.address],
                                                                               walk.values)
            if walk.errors:
                raise ConfigErrors(walk.errors)
        if options.validate_only:
            if self.decls.services:  # unknown machines and roles are configuration errors, found here
                build_inventory(self.decls, scope, walk.values, walk.changes, self._machine_types())
            return self._assemble(state, [], options, refreshed)
        changes = list(walk.changes.values())
        changes += self._removals(state, expansions)
        if options.destroy:
            changes = self._destroy_all(state)
        self._check_prevent_destroy(changes)
        changes = apply_targets(changes, options.targets)
        plan = self._assemble(state, changes, options, refreshed, scope, expansions, walk)
        return replace(plan, warnings=(*plan.warnings, *walk.warnings)) if walk.warnings else plan

    def _plan_generation(self, decls: list[ResourceDecl], expansions: Mapping[str, list[InstanceSpec]],
                         state: StateDoc, scope: ConfigScope, walk: _Walk, options: PlanOptions) -> None:
        pending: dict[str, list[tuple[InstanceSpec, dict[str, Any], tuple[str, ...]]]] = {}
        errors = walk.errors
        for decl in decls:
            info = self.providers.type_info(decl.type)
            schema = block_schema(f"resources/{decl.type}")
            dd = self.model.deps[decl.address]
            settings = self.provider_settings.get(decl.provider)
            attributes = tuple(decl.attributes.items())

            def pos_of(attr: str, decl: ResourceDecl = decl) -> Any:
                return decl.attribute_pos.get(attr.split(".")[0], decl.pos)

            for spec in self._respecs(decl, scope, expansions, errors):
                iscope = spec.scope(scope)
                enabled = True if decl.enabled is None else _evaluate(decl.enabled, iscope, errors)
                if enabled is UNKNOWN or not isinstance(enabled, bool):
                    if decl.enabled is not None and enabled is not UNKNOWN:
                        errors.append(ConfigError(f"enabled must be true or false, not {enabled!r}",
                                                  decl.enabled.pos))
                    enabled = True
                deps = self._instance_deps(dd, expansions, spec.key)
                config = {name: _evaluate(expr, iscope, errors) for name, expr in attributes}
                problems = schema.check(config, pos_of, settings=settings)
                if not problems:
                    problems = self._provider_checks(spec.address, decl.type, decl.provider, config, pos_of)
                errors.extend(problems)
                upstream = next((d for d in deps if walk.status.get(d) in ("disabled", "dormant")), None)
                if not enabled or upstream is not None:
                    walk.status[spec.address] = "disabled" if not enabled else "dormant"
                    prior = state.resources.get(spec.address)
                    action, reason = decide.decide_inactive(prior, info.kind, disabled=not enabled)
                    walk.values[spec.address] = decide.with_unknown_computed(config, info)
                    walk.changes[spec.address] = ResourceChange(
                        spec.address, decl.type, decl.name, decl.provider, info.kind.value, action, reason,
                        before=dict(prior.attributes) if prior else None, after=None,
                        dependencies=deps if action is not Action.DELETE else (prior.dependencies if prior else ()),
                        sensitive=dd.sensitive_attrs, dormant_because=upstream)
                    continue
                walk.status[spec.address] = "active"
                pending.setdefault(decl.provider, []).append((spec, config, deps))
        if walk.errors or options.validate_only:
            for items in pending.values():
                for spec, config, _ in items:
                    walk.values[spec.address] = decide.with_unknown_computed(
                        config, self.providers.type_info(spec.decl.type))
            return
        for prov_name in sorted(pending):
            items = pending[prov_name]
            provider = self.providers.get(prov_name)
            requests = [PlanRequest(spec.address, spec.decl.type, config, self._recorded(state, spec.address))
                        for spec, config, _ in items]
            responses = provider.plan(requests)
            for (spec, config, deps), resp in zip(items, responses, strict=True):
                walk.warnings.update(dict.fromkeys(resp.warnings))
                if resp.problems:
                    pos = spec.decl.attribute_pos
                    walk.errors.extend(ConfigError(f"{spec.address}: {p.message}", pos.get(p.attribute, spec.decl.pos),
                                                   hint=p.hint) for p in resp.problems)
                    walk.values[spec.address] = decide.with_unknown_computed(
                        config, self.providers.type_info(spec.decl.type))
                    continue
                self._decide(spec, config, deps, resp, state, walk)

    def _provider_checks(self, address: str, type_: str, provider: str, config: Mapping[str, Any],
                         pos_of: Any) -> list[ConfigError]:
        """What the provider knows its cloud would refuse (catalogue and compatibility rules), as config errors."""
        if provider not in self._checkers:
            built = self.providers.get(provider)
            self._checkers[provider] = built if isinstance(built, ConfigChecker) else None
        checker = self._checkers[provider]
        if checker is None:
            return []
        return [ConfigError(p.message, pos_of(p.attribute), hint=p.hint)
                for p in checker.check_config(address, type_, config)]

    def _decide(self, spec: InstanceSpec, config: Mapping[str, Any], deps: tuple[str, ...], resp: Any,
                state: StateDoc, walk: _Walk) -> None:
        decl = spec.decl
        info = self.providers.type_info(decl.type)
        prior = state.resources.get(spec.address)
        planned = decide.fill_unknown_computed(resp.planned, info)
        changed: tuple[str, ...] = ()
        replace: tuple[str, ...] = ()
        if info.kind is ResourceKind.MACHINE:
            recreated = any(walk.changes[d].action in (Action.CREATE, Action.REPLACE) and
                            walk.changes[d].kind == ResourceKind.CLOUD.value for d in deps if d in walk.changes)
            action, reason = decide.decide_machine(self._machine_record(decl.provider, prior), planned, config,
                                                   recreated)
            if action is Action.NIXOS_UPDATE and spec.address in self._drifted:
                reason = Reason.NIXOS_DRIFT
        else:
            action, reason, changed, replace = decide.decide_cloud(prior, resp, info, decl.lifecycle.ignore_changes)
            if action is Action.REPLACE:
                planned = decide.with_unknown_computed(planned, info)
        walk.values[spec.address] = planned
        walk.changes[spec.address] = ResourceChange(
            spec.address, decl.type, decl.name, decl.provider, info.kind.value, action, reason,
            before=dict(prior.attributes) if prior else None, after=planned, dependencies=deps,
            requires_replace=replace, changed=changed, notes=tuple(resp.notes),
            sensitive=self.model.deps[decl.address].sensitive_attrs,
            create_before_destroy=decl.lifecycle.create_before_destroy, config=dict(config))

    def _machine_types(self) -> frozenset[str]:
        """The resource types whose kind is MACHINE (the inventory's members), as their providers say (computed
        once: it looks at every declaration)."""
        if self._machine_types_found is None:
            types = {d.type for d in self.decls.resources.values()}
            self._machine_types_found = frozenset(t for t in types
                                                  if self.providers.type_info(t).kind is ResourceKind.MACHINE)
        return self._machine_types_found

    def _machine_provider(self, provider_name: str) -> MachineProvider:
        provider = self._machine_providers.get(provider_name)
        if provider is None:  # a runtime Protocol check costs ~40 µs: once per provider, not per machine
            found = self.providers.get(provider_name)
            if not isinstance(found, MachineProvider):
                raise ReconcilerError(f"provider {provider_name} has machine types but no machine records")
            provider = self._machine_providers[provider_name] = found
        return provider

    def _machine_record(self, provider_name: str, prior: Any) -> MachineRecord | None:
        if prior is None:
            return None
        return self._machine_provider(provider_name).machine_record(self._record(prior))

    def _record(self, res: ResourceState) -> RecordedResource:
        """What the providers are given of a recorded resource (made once per resource: a machine's record is
        asked for before the walk, by its provider's plan and by the decision)."""
        known = self._recorded_of.get(res.address)
        if known is None or known[0] is not res:
            known = self._recorded_of[res.address] = (res, recorded(res))
        return known[1]

    def _recorded(self, state: StateDoc, address: str) -> RecordedResource | None:
        res = state.resources.get(address)
        return self._record(res) if res is not None and res.id is not None else None

    def _prepare_machines(self, state: StateDoc) -> None:
        """Give each machine provider its recorded machines before the walk, so slow work (the NixOS
        configurations' evaluation) runs while the clouds are planned."""
        machine_types = self._machine_types()
        by_provider: dict[str, list[RecordedResource]] = {}
        for res in state.resources.values():
            if res.type in machine_types and res.id is not None:
                by_provider.setdefault(provider_name(res.type), []).append(self._record(res))
        for name, records in sorted(by_provider.items()):
            self._machine_provider(name).prepare_plan(records)

    def _respecs(self, decl: ResourceDecl, scope: ConfigScope, expansions: Mapping[str, list[InstanceSpec]],
                 errors: list[ConfigError]) -> list[InstanceSpec]:
        """The instances again, now that what for_each references is planned (each.value is real)."""
        if decl.for_each is None:
            return expansions[decl.address]
        try:
            specs = expand(decl, scope)
        except ConfigError as e:
            errors.append(e)
            return expansions[decl.address]
        if [s.address for s in specs] != [s.address for s in expansions[decl.address]]:
            errors.append(ConfigError("for_each keys changed between evaluations", decl.pos))
        return specs

    def _instance_deps(self, dd: DeclDeps, expansions: Mapping[str, list[InstanceSpec]],
                       own_key: str | int | None) -> tuple[str, ...]:
        """The instances this one depends on, each found in O(1) through an index by key (built once per
        declaration): a scan of every instance per instance made for_each planning quadratic."""
        out: list[str] = []
        for address, key in dd.targets:
            want = own_key if key == SAME_KEY else key
            if want is None:
                out.extend(self._all_addresses(address, expansions))
            else:
                found = self._keyed(address, expansions).get(want)
                if found is not None:
                    out.append(found)
        return tuple(dict.fromkeys(out)) if len(out) > 1 else tuple(out)

    def _keyed(self, address: str, expansions: Mapping[str, list[InstanceSpec]]) -> dict[str | int | None, str]:
        index = self._key_index.get(address)
        if index is None:
            index = self._key_index[address] = {s.key: s.address for s in expansions.get(address, [])}
        return index

    def _all_addresses(self, address: str, expansions: Mapping[str, list[InstanceSpec]]) -> tuple[str, ...]:
        found = self._address_index.get(address)
        if found is None:
            found = self._address_index[address] = tuple(s.address for s in expansions.get(address, []))
        return found

    # ------------------------------------------------------------------------------------ deletions
    def _removals(self, state: StateDoc, expansions: Mapping[str, list[InstanceSpec]]) -> list[ResourceChange]:
        wanted = {s.address for specs in expansions.values() for s in specs}
        out = []
        for address in sorted(state.resources):
            if address in wanted:
                continue
            res = state.resources[address]
            base, _ = split_address(address)
            reason = Reason.COUNT_ZERO if base in self.decls.resources else Reason.NO_CONFIG
            out.append(self._delete(res.address, reason, state))
        return out

    def _delete(self, address: str, reason: Reason, state: StateDoc) -> ResourceChange:
        res = state.resources[address]
        base, _ = split_address(address)
        kind = self.providers.type_info(res.type).kind.value
        return ResourceChange(address, res.type, base.split(".", 1)[1], provider_name(res.type), kind,
                              Action.DELETE, reason, before=dict(res.attributes), after=None,
                              dependencies=res.dependencies)

    def _destroy_all(self, state: StateDoc) -> list[ResourceChange]:
        return [self._delete(a, Reason.DESTROY_MODE, state) for a in sorted(state.resources)]

    def _check_prevent_destroy(self, changes: list[ResourceChange]) -> None:
        errors = []
        for c in changes:
            if c.action in (Action.DELETE, Action.REPLACE) and c.kind == ResourceKind.CLOUD.value:
                decl = self.decls.resources.get(split_address(c.address)[0])
                if decl is not None and decl.lifecycle.prevent_destroy:
                    errors.append(ConfigError(f"{c.address} has lifecycle.prevent_destroy set, but this plan would "
                                              f"destroy it ({c.reason.value})", decl.pos,
                                              hint="remove prevent_destroy or change the plan"))
        if errors:
            raise ConfigErrors(errors)

    # ------------------------------------------------------------------------------------ assembly
    def _assemble(self, state: StateDoc, changes: list[ResourceChange], options: PlanOptions,
                  refreshed: StateDoc | None, scope: ConfigScope | None = None,
                  expansions: Mapping[str, list[InstanceSpec]] | None = None, walk: _Walk | None = None) -> Plan:
        changes = sorted(changes, key=lambda c: c.address)
        inventory: dict[str, Any] = {}
        after_edges: tuple[tuple[str, str], ...] = ()
        if scope is not None and walk is not None:
            inventory, after_edges = build_inventory(self.decls, scope, walk.values, walk.changes,
                                                     self._machine_types())
            if self.decls.services:
                changes = self._inventory_updates(changes, inventory)
        return Plan(
            lineage=state.lineage, serial=state.serial, state_exists=state.exists, changes=tuple(changes),
            config=self.model.config.snapshot(), variables=self.model.variables,
            sensitive_variables=self.model.sensitive_variables,
            targets=options.targets, destroy=options.destroy, refreshed=refreshed is not None,
            cost=plan_cost(changes, state, self.providers) if changes or state.resources else None,
            after_edges=after_edges, inventory=inventory,
            created=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),  # as datetime.now(UTC).isoformat()
            refreshed_state=refreshed.to_json() if refreshed is not None else None,
            outputs=plan_outputs(self.decls, scope, state.outputs) if scope is not None else (),
            configuration=LazyConfiguration(self.decls),
        )


    def _inventory_updates(self, changes: list[ResourceChange], inventory: Mapping[str, Any]) -> list[ResourceChange]:
        """The flake reads inventory.json, which apply rewrites: an installed machine whose entry changes gets a
        new system even when its flake did not change, and that system is known only once apply has written
        the new file (and every address in it is known)."""
        changed = changed_views(inventory, written_inventory(self.model.directory))
        out = []
        for c in changes:
            if c.kind == ResourceKind.MACHINE.value and c.action in (Action.NOOP, Action.NIXOS_UPDATE) and \
                    c.after is not None and machine_name(c.address) in changed:
                c = replace(c, action=Action.NIXOS_UPDATE, reason=Reason.INVENTORY_CHANGED,
                            after={**c.after, "toplevel": UNKNOWN})
            out.append(c)
        return out

