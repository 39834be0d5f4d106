"""Build what a command needs from its arguments: the configuration, variables, state backend, providers."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.base import Provider, ProviderConfig, ProviderFactory
from reconciler.config.decls import BlockDecl
from reconciler.config.loader import Configuration, load_directory, load_sources
from reconciler.config.schema import block_schema
from reconciler.config.scope import ConfigScope
from reconciler.config.variables import VarSources, resolve_variables, retyped
from reconciler.errors import ConfigError, ConfigErrors, StateError
from reconciler.registry import ProviderSet
from reconciler.sandbox.world import check_running, installer_for
from reconciler.state.backend import Backend
from reconciler.state.local import LocalBackend

DEFAULT_STATE = "reconciler.state.json"

# provider name -> "module:factory", imported only when the provider is first used
PROVIDER_FACTORIES = {
    "hcloud": "providers.hcloud:create_provider",
    "google": "providers.google:create_provider",
    "nixos": "reconciler.nixos:create_provider",
}


def _factory(spec: str) -> ProviderFactory:
    module, _, attr = spec.partition(":")

    def build(config: ProviderConfig) -> Provider:
        factory = getattr(importlib.import_module(module), attr)
        provider: Provider = factory(config)
        return provider

    return build


def default_factories() -> dict[str, ProviderFactory]:
    return {name: _factory(spec) for name, spec in PROVIDER_FACTORIES.items()}


@dataclass
class Loaded:
    config: Configuration
    variables: dict[str, Any]
    provider_settings: dict[str, dict[str, Any]]


def load(directory: Path, sources: VarSources, *, snapshot: Mapping[str, str] | None = None,
         variables: Mapping[str, Any] | None = None, require_all: bool = True) -> Loaded:
    config = load_sources(directory, dict(snapshot)) if snapshot is not None else load_directory(directory)
    values = retyped(config.decls.variables, variables) if variables is not None else resolve_variables(
        config.decls.variables, directory, sources, require_all=require_all)
    settings = evaluate_blocks(config, values)
    installer = installer_for(directory)  # this configuration's sandbox runs hosts: install with its installer
    if installer is not None:
        settings.setdefault("nixos", {})["nixos_anywhere"] = installer
    return Loaded(config, values, settings)


def evaluate_blocks(config: Configuration, variables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Evaluate and schema-check provider, backend and secrets blocks (they may use var, not resources)."""
    from reconciler.config.evaluator import evaluate

    scope = ConfigScope(config.directory, variables, {}, {})
    errors: list[ConfigError] = []
    settings: dict[str, dict[str, Any]] = {}

    def values(block: BlockDecl) -> dict[str, Any]:
        out = {}
        for k, e in block.attributes.items():
            try:
                out[k] = evaluate(e, scope)
            except ConfigError as err:
                errors.append(err)
        return out

    for name, block in config.decls.providers.items():
        if name not in PROVIDER_FACTORIES or name == "nixos":
            errors.append(ConfigError(f'unknown provider "{name}"', block.pos, hint='use "hcloud" or "google"'))
            continue
        settings[name] = values(block)
        errors.extend(block_schema(f"provider_{name}").check_plain(settings[name], block.pos, f'provider "{name}"'))
    if config.decls.backend is not None:
        b = config.decls.backend
        if b.label not in ("local", "pg"):
            errors.append(ConfigError(f'unknown backend "{b.label}"', b.pos, hint='use backend "local" or "pg"'))
        else:
            errors.extend(block_schema(f"backend_{b.label}").check_plain(values(b), b.pos, f'backend "{b.label}"'))
    if config.decls.secrets is not None:
        s = config.decls.secrets
        secrets = values(s)
        errors.extend(block_schema("secrets").check_plain(secrets, s.pos, "secrets"))
        # the NixOS provider encrypts the secrets it generates (host keys) to the admins too
        settings["nixos"] = {"secrets_recipients": list(secrets.get("recipients") or [])}
    for name, v in config.decls.vars.items():
        errors.extend(block_schema("vars").check_plain(values(_as_block(v.attributes, v.pos)), v.pos, f'vars "{name}"'))
        for f in v.files:
            errors.extend(block_schema("vars_file").check_plain(values(_as_block(f.attributes, f.pos)), f.pos,
                                                                f'vars "{name}" file "{f.name}"'))
    if errors:
        raise ConfigErrors(errors)
    return settings


def _as_block(attributes: Mapping[str, Any], pos: Any) -> BlockDecl:
    return BlockDecl("block", "", attributes, pos)


def backend_for(config: Configuration, variables: Mapping[str, Any]) -> Backend:
    from reconciler.config.evaluator import evaluate

    b = config.decls.backend
    if b is None:
        return LocalBackend(config.directory / DEFAULT_STATE)
    scope = ConfigScope(config.directory, variables, {}, {})
    settings = {k: evaluate(e, scope) for k, e in b.attributes.items()}
    if b.label == "local":
        path = Path(settings.get("path") or DEFAULT_STATE)
        return LocalBackend(path if path.is_absolute() else config.directory / path)
    from reconciler.state.pg import PgBackend

    conn_str = settings.get("conn_str") or os.environ.get("PG_CONN_STR")
    if not conn_str:
        raise StateError('backend "pg" needs conn_str (or PG_CONN_STR in the environment)')
    return PgBackend(conn_str, settings.get("schema_name") or "reconciler")


def environment() -> dict[str, str]:
    return dict(os.environ)


def providers_for(loaded: Loaded, lineage: str,
                  factories: Mapping[str, ProviderFactory] | None = None, *, offline: bool = False) -> ProviderSet:
    if not offline:
        check_running(loaded.config.directory)  # a stopped sandbox is named at once, not after retries
    return ProviderSet(factories or default_factories(), loaded.provider_settings, lineage, loaded.config.directory)
