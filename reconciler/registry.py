"""The providers of one run, built lazily from their factories and evaluated `provider` blocks.

The engine only ever sees this object and providers.base; which concrete provider backs which resource type
is decided by the factories the caller (the CLI) passes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from providers.base import Provider, ProviderConfig, ProviderFactory, TypeInfo
from reconciler.errors import ReconcilerError


def provider_name(type_: str) -> str:
    return type_.split("_", 1)[0]


class ProviderSet:
    def __init__(self, factories: Mapping[str, ProviderFactory], settings: Mapping[str, Mapping[str, Any]],
                 lineage: str, workdir: Path) -> None:
        self._factories = factories
        self._settings = settings
        self._lineage = lineage
        self._workdir = workdir
        self._built: dict[str, Provider] = {}
        self._types: dict[str, TypeInfo] = {}

    def get(self, name: str) -> Provider:
        prov = self._built.get(name)
        if prov is None:
            factory = self._factories.get(name)
            if factory is None:
                raise ReconcilerError(f'no provider "{name}" is available')
            prov = factory(ProviderConfig(name, dict(self._settings.get(name, {})), self._lineage, self._workdir))
            self._built[name] = prov
        return prov

    def for_type(self, type_: str) -> Provider:
        return self.get(provider_name(type_))

    def type_info(self, type_: str) -> TypeInfo:
        info = self._types.get(type_)
        if info is None:
            info = self._types[type_] = self.for_type(type_).types()[type_]
        return info

    def built(self) -> list[Provider]:
        return [self._built[k] for k in sorted(self._built)]

    async def close(self) -> None:
        for prov in self._built.values():
            await prov.close()
