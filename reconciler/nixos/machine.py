"""A `nixos_machine` as the provider reads it: the evaluated attributes (CONTRACT §2) turned into a frozen
MachineSpec with defaults, the machine name derived from the resource address, and the flake reference
resolved against the configuration directory."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config.scope import machine_name
from reconciler.values import UNKNOWN

PHASES = ("kexec", "disko", "install", "reboot")
CURRENT = "current_toplevel"  # where /run/current-system points now (the recorded `toplevel` is what we deployed)
SYSTEM_PROFILE = "/nix/var/nix/profiles/system"

DEFAULTS: Mapping[str, Any] = {
    "target_user": "root",
    "target_port": 22,
    "rollback": True,
    "require_explicit_update": False,
    "tags": [],
}



@dataclass(frozen=True)
class FlakeRef:
    """`ref#attr`, with a local ref made absolute (what both `nix` and `builtins.getFlake` accept)."""

    ref: str
    attr: str

    @property
    def installable(self) -> str:
        return f"{self.ref}#nixosConfigurations.{self.attr}.config.system.build.toplevel"

    def __str__(self) -> str:
        return f"{self.ref}#{self.attr}"


def resolve_flake(flake: str | None, machine: str, workdir: Path) -> FlakeRef:
    text = flake or ".#" + machine
    ref, _, attr = text.partition("#")
    return FlakeRef(_resolve_ref(ref, workdir), attr or machine)


@functools.lru_cache(maxsize=1024)
def _resolve_ref(ref: str, workdir: Path) -> str:
    """A local flake reference made absolute; once per distinct reference (10,000 machines share one)."""
    if ref == "" or ref.startswith((".", "/", "~")):
        return str((workdir / Path(ref or ".").expanduser()).resolve())
    if ref.startswith("path:") and not ref[5:].startswith("/"):
        return "path:" + str((workdir / ref[5:]).resolve())
    return ref


def _block(value: Any) -> Mapping[str, Any]:
    """A nested block as the engine hands it: a list of objects (take the first), an object, or nothing."""
    if isinstance(value, (list, tuple)):
        return value[0] if value and isinstance(value[0], Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def split_target(text: str) -> tuple[str | None, str, int | None]:
    """"[user@]host[:port]" (IPv6 as "[addr]:port") -> (user, host, port); absent parts are None."""
    user, _, rest = text.rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        if tail.startswith(":") and tail[1:].isdigit():
            port = int(tail[1:])
    elif rest.count(":") == 1 and rest.partition(":")[2].isdigit():
        host, _, p = rest.partition(":")
        port = int(p)
    return user or None, host, port


@dataclass(frozen=True)
class InstallSpec:
    enabled: bool = True
    kexec: str | None = None
    build_on_remote: bool = False
    phases: tuple[str, ...] = PHASES
    disk_encryption_keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HealthCheck:
    command: str
    timeout: float = 60.0


@dataclass(frozen=True)
class MachineSpec:
    address: str
    name: str
    target_host: str
    target_user: str
    target_port: int
    ssh_private_key_file: str | None
    host_key: str | None  # the key to pin, when known
    build_host: str | None
    flake: FlakeRef
    tags: tuple[str, ...]
    require_explicit_update: bool
    install: InstallSpec
    health_checks: tuple[HealthCheck, ...]
    rollback: bool


def _str(value: Any) -> str | None:
    return None if value is None or value is UNKNOWN or value == "" else str(value)


def parse_spec(address: str, attrs: Mapping[str, Any], workdir: Path) -> MachineSpec:
    """The machine of fully known attributes (apply time); missing attributes take their defaults."""
    name = machine_name(address)
    inst = _block(attrs.get("install"))
    phases = inst.get("phases") or PHASES
    keys = inst.get("disk_encryption_keys") or {}
    checks = attrs.get("health_check") or []
    if isinstance(checks, Mapping):
        checks = [checks]
    key_file = _str(attrs.get("ssh_private_key_file"))
    user, host, port = split_target(str(attrs["target_host"]))
    return MachineSpec(
        address=address,
        name=name,
        target_host=host,
        target_user=user or _str(attrs.get("target_user")) or DEFAULTS["target_user"],
        target_port=port or int(attrs.get("target_port") or DEFAULTS["target_port"]),
        ssh_private_key_file=str(Path(key_file).expanduser()) if key_file else None,
        host_key=_str(attrs.get("host_key")),
        build_host=_str(attrs.get("build_host")),
        flake=resolve_flake(_str(attrs.get("flake")), name, workdir),
        tags=tuple(str(t) for t in attrs.get("tags") or ()),
        require_explicit_update=bool(attrs.get("require_explicit_update", False)),
        install=InstallSpec(
            enabled=bool(inst.get("enabled", True)),
            kexec=_str(inst.get("kexec")),
            build_on_remote=bool(inst.get("build_on_remote", False)),
            phases=tuple(p for p in PHASES if p in phases),
            disk_encryption_keys=tuple(sorted((str(r), str(lo)) for r, lo in dict(keys).items())),
        ),
        health_checks=tuple(HealthCheck(str(c["command"]), float(c.get("timeout") or 60)) for c in checks
                            if isinstance(c, Mapping) and c.get("command")),
        rollback=bool(attrs.get("rollback", True)),
    )
