"""What every step of the NixOS provider shares: its settings (timeouts, tools, parallelism), the local nix,
the SSH connection pool, the managed known_hosts, the vars store, and a private scratch directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError
from reconciler.nixos.knownhosts import KnownHosts
from reconciler.nixos.nixcmd import Builder, NixTool
from reconciler.vars import VarsStore

if TYPE_CHECKING:
    from reconciler.nixos.ssh import SessionPool

NIXOS_ANYWHERE_ENV = "RECONCILER_NIXOS_ANYWHERE"


@dataclass(frozen=True)
class Settings:
    """Optional settings of the nixos provider; every one has a sensible default."""

    parallelism: int = 10  # machines worked on at once (apply and refresh)
    nix: str = "nix"
    nixos_anywhere: str = "nixos-anywhere"
    connect_timeout: float = 10.0
    confirm_timeout: float = 30.0  # magic rollback: the window to reconnect and confirm after activation
    activation_timeout: float = 600.0
    reboot_timeout: float = 600.0  # how long to wait for the installed system to answer with its key
    poll_interval: float = 1.0
    secrets_recipients: tuple[str, ...] = ()
    copy_transport: str = "tunnel"  # "tunnel": over our pinned SSH connection; "ssh-ng": nix's own ssh

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> Settings:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(f'provider "nixos": unknown setting {unknown[0]!r}',
                              hint="known: " + ", ".join(sorted(known)))
        values: dict[str, Any] = {}
        for name, value in settings.items():
            default = getattr(cls, name)
            if isinstance(default, tuple):
                values[name] = tuple(str(v) for v in value or ())
            elif isinstance(default, (bool, int, float, str)):
                values[name] = type(default)(value)
        if values.get("copy_transport", "tunnel") not in ("tunnel", "ssh-ng"):
            raise ConfigError('provider "nixos": copy_transport must be "tunnel" or "ssh-ng"')
        if "nixos_anywhere" not in values and os.environ.get(NIXOS_ANYWHERE_ENV):
            values["nixos_anywhere"] = os.environ[NIXOS_ANYWHERE_ENV]
        return cls(**values)


@dataclass
class Context:
    settings: Settings
    workdir: Path
    tool: NixTool
    known_hosts: KnownHosts
    vars: VarsStore
    builder: Builder
    scratch: Path | None = None  # made on first use, removed by close()
    _pool: SessionPool | None = field(default=None, repr=False)

    @property
    def pool(self) -> SessionPool:
        """The SSH sessions, made on the first connection: a plan never connects, nor imports asyncssh."""
        if self._pool is None:
            from reconciler.nixos.ssh import SessionPool

            self._pool = SessionPool(self.settings.connect_timeout)
        return self._pool

    @classmethod
    def create(cls, settings: Settings, workdir: Path) -> Context:
        tool = NixTool(settings.nix)
        return cls(settings=settings, workdir=workdir, tool=tool, known_hosts=KnownHosts(workdir),
                   vars=VarsStore(workdir / "vars", recipients=settings.secrets_recipients),
                   builder=Builder(tool, timeout=settings.activation_timeout))

    def private_dir(self, prefix: str) -> Path:
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix="reconciler-nixos-"))
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.scratch))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
