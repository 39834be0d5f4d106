"""`reconciler providers catalog --refresh`: rewrite each provider's dated catalogue table from a real account.

Each provider package that keeps such a table exposes `refresh_catalog(settings, directory) -> list[Path]`
in `providers/<cloud>/catalog_refresh.py` (see `CatalogRefresh`); this command only finds the settings (the
configuration's `provider` blocks when there is a configuration, else empty: each provider falls back to its
environment variables) and the directory (the package's own, or `--out-dir DIR/<cloud>`), and prints what
was written.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, cast

from reconciler.cli.console import Out
from reconciler.errors import ProviderError, ReconcilerError

CLOUDS = ("hcloud", "google")


class CatalogRefresh(Protocol):
    """What `providers/<cloud>/catalog_refresh.py` offers."""

    def refresh_catalog(self, settings: Mapping[str, Any], directory: Path) -> list[Path]: ...


def add_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """The `providers` command's subcommands (its parser is made by reconciler.cli.main)."""
    psub = p.add_subparsers(dest="providers_cmd", metavar="SUBCOMMAND", parser_class=type(p))
    psub.required = True
    cp = psub.add_parser("catalog", parents=[common], help="rewrite the dated catalogue tables from a real account")
    cp.add_argument("--refresh", action="store_true", required=True,
                    help="read server/machine types, prices and deprecations from the API and rewrite the tables")
    cp.add_argument("--provider", action="append", choices=CLOUDS, metavar="NAME",
                    help="only this provider (repeatable; default: every provider that has a table)")
    cp.add_argument("--out-dir", type=Path, metavar="DIR",
                    help="write DIR/<provider>/... instead of the tables bundled with reconciler")
    cp.add_argument("--var", action="append", metavar="NAME=VALUE")
    cp.add_argument("--var-file", action="append", metavar="FILE")


def _module(cloud: str) -> CatalogRefresh | None:
    try:
        return cast(CatalogRefresh, importlib.import_module(f"providers.{cloud}.catalog_refresh"))
    except ModuleNotFoundError as e:
        if e.name == f"providers.{cloud}.catalog_refresh":
            return None
        raise


def _settings(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from reconciler.cli import context as ctx
    from reconciler.config.variables import cli_sources

    directory: Path = args.dir
    if not any(directory.glob("*.tf")) and not any(directory.glob("*.tf.json")):
        return {}
    sources = cli_sources(args.var or [], args.var_file or [], ctx.environment())
    return ctx.load(directory, sources, require_all=False).provider_settings


def cmd_providers(args: argparse.Namespace, out: Out) -> int:
    settings = _settings(args)
    failed = 0
    for cloud in args.provider or CLOUDS:
        module = _module(cloud)
        if module is None:
            if args.provider:
                raise ReconcilerError(f'the "{cloud}" provider has no catalogue to refresh')
            continue
        directory = args.out_dir / cloud if args.out_dir else Path(cast(Any, module).__file__).parent
        try:
            written = module.refresh_catalog(settings.get(cloud, {}), directory)
        except ProviderError as e:
            failed += 1
            for line in e.lines():
                out.error(f"{cloud}: {line}")
            continue
        for path in written:
            out.text(f"{cloud}: wrote {path}")
    return 1 if failed else 0
