"""The reconciler-managed known_hosts: one line per machine with its pinned host key, written atomically to
`.reconciler/known_hosts` in the configuration directory. `reconciler machines known-hosts` prints it, the
user's own ssh can use it, and single-line files made from it pin exactly one key for `nix copy`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.base import RecordedResource
from reconciler.nixos.machine import machine_name

FILE = Path(".reconciler") / "known_hosts"


def host_pattern(host: str, port: int) -> str:
    return host if int(port) == 22 else f"[{host}]:{int(port)}"


def key_only(key: str) -> str:
    """"ssh-ed25519 AAAA... comment" -> "ssh-ed25519 AAAA..."."""
    return " ".join(key.split()[:2])


@dataclass(frozen=True)
class Pin:
    machine: str
    host: str
    port: int
    key: str

    def line(self) -> str:
        return f"{host_pattern(self.host, self.port)} {key_only(self.key)} {self.machine}"


def parse(text: str) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for raw in text.splitlines():
        parts = raw.split()
        if len(parts) < 4 or raw.startswith("#"):
            continue
        pattern, ktype, blob, machine = parts[:4]
        host, port = pattern, 22
        if pattern.startswith("[") and "]:" in pattern:
            host, _, p = pattern[1:].partition("]:")
            port = int(p)
        pins[machine] = Pin(machine, host, port, f"{ktype} {blob}")
    return pins


def render(pins: Iterable[Pin]) -> str:
    return "".join(pin.line() + "\n" for pin in sorted(pins, key=lambda p: p.machine))


class KnownHosts:
    """The managed file of one configuration directory."""

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / FILE

    def pins(self) -> dict[str, Pin]:
        return parse(self.path.read_text()) if self.path.exists() else {}

    def pin(self, machine: str, host: str, port: int, key: str) -> None:
        pins = self.pins()
        new = Pin(machine, host, int(port), key_only(key))
        if pins.get(machine) == new:
            return
        pins[machine] = new
        self._write(render(pins.values()))

    def text(self) -> str:
        return render(self.pins().values())

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".known_hosts.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def known_hosts_text(workdir: Path) -> str:
    """What `reconciler machines known-hosts` prints for a configuration directory."""
    return KnownHosts(workdir).text()


def known_hosts_from_state(records: Iterable[RecordedResource]) -> str:
    """The same lines made from state (each nixos_machine's target_host, target_port and pinned host_key)."""
    pins = []
    for rec in records:
        attrs: Mapping[str, Any] = rec.attributes
        key, host = attrs.get("host_key"), attrs.get("target_host")
        if rec.type == "nixos_machine" and isinstance(key, str) and key and isinstance(host, str) and host:
            pins.append(Pin(machine_name(rec.address), host, int(attrs.get("target_port") or 22), key))
    return render(pins)
