"""The sandbox's background process: the Hetzner Cloud and Compute Engine API emulators on loopback and, as
root on Linux, a farm of hosts that the emulators hand out as server addresses (a new host with a new host key
per created server, torn down when the server is deleted). It starts from the world saved under
`.reconciler/sandbox/` (the same ports, servers, instances and hosts as last time), writes its run record, serves
until SIGTERM, then saves the world, stops the emulators and every host (their trees stay for the next `up`).

    python -m reconciler.sandbox.daemon CONFIG_DIR SPEED
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from reconciler.sandbox.hosts import HostFarm
from reconciler.sandbox.netns import missing_requirements
from reconciler.sandbox.world import SandboxDir, read_json, write_installer, write_json

# provider -> (emulator module, snapshot module, the attribute of an Emulator the snapshot works on)
EMULATORS = {
    "hcloud": ("providers.hcloud.emulator", "providers.hcloud.emu_snapshot", "world"),
    "google": ("providers.google.emulator", "providers.google.emulator_snapshot", "model"),
}
log = logging.getLogger("reconciler.sandbox")


def _knobs(name: str, speed: float) -> dict[str, float]:
    """`speed` emulated seconds pass per real second; each emulator spells its clock its own way."""
    return {"time_scale": speed} if name == "hcloud" else {"time_scale": 1.0 / speed}


class HostAddresses:
    """The emulators' address hook in the sandbox: one new host per server, torn down when it is gone."""

    def __init__(self, farm: HostFarm) -> None:
        self.farm = farm
        self.lock = threading.Lock()

    def allocate(self, name: str) -> str:
        with self.lock:
            (host,) = self.farm.create(1, systemd=True)
        log.info("host %s for %s (host key %s)", host.address, name, host.host_key.split()[1][-12:])
        return str(host.address)

    def release(self, address: str) -> None:
        with self.lock:
            host = self.farm.find(address)
            if host is not None:
                self.farm.destroy(host)
                log.info("host %s torn down", address)


def _used_addresses(world: dict[str, Any]) -> set[str]:
    used = {s.get("ipv4") for s in world.get("hcloud", {}).get("servers", [])}
    for project in world.get("google", {}).get("projects", {}).values():
        for item in project.get("instances", []):
            for nic in item["resource"].get("networkInterfaces", [])[:1]:
                used.add(nic.get("networkIP"))
    return {a for a in used if a}


def _farm(sandbox: SandboxDir, world: dict[str, Any]) -> tuple[HostFarm | None, str | None]:
    """The host farm with every host of the saved world running again, or (None, why not)."""
    reason = missing_requirements()
    if reason is not None:
        return None, reason
    farm = HostFarm(sandbox.hosts, tag=str(world.get("tag") or os.urandom(2).hex()), from_top=True)
    used = _used_addresses(world)
    for tree in farm.stored():
        address = str((read_json(tree / "host.json") or {}).get("address"))
        if address in used:
            farm.restart(tree)
        else:  # a host whose server is gone
            shutil.rmtree(tree, ignore_errors=True)
    return farm, None


def serve(config: Path, speed: float) -> None:
    sandbox = SandboxDir(config)
    world = read_json(sandbox.world_file) or {}
    farm, no_hosts = _farm(sandbox, world)
    addresses = HostAddresses(farm) if farm is not None else None
    stack = contextlib.ExitStack()
    running: dict[str, tuple[Any, Any, str]] = {}
    try:
        for name, (module, snap_module, attr) in EMULATORS.items():
            try:
                start = importlib.import_module(module).start_emulator
                snap = importlib.import_module(snap_module)
            except (ImportError, AttributeError):
                continue
            port = int(world.get("ports", {}).get(name, 0))
            emulator = stack.enter_context(start(host="127.0.0.1", port=port, addresses=addresses,
                                                 **_knobs(name, speed)))
            if name in world:
                snap.restore(getattr(emulator, attr), world[name])
            running[name] = (emulator, snap, attr)
        if not running:
            raise SystemExit("no emulator is installed")
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        signal.signal(signal.SIGINT, lambda *_: stopping.set())
        write_json(sandbox.run_file, {
            "pid": os.getpid(), "endpoints": {n: e.endpoint for n, (e, _, _) in running.items()},
            "hosts": farm is not None, "no_hosts_reason": no_hosts, "installer": str(write_installer(sandbox)),
            "client_key": str(farm.client_key) if farm is not None else None,
            "tag": farm.tag if farm is not None else None})
        stopping.wait()
        saved = {"ports": {n: e.port for n, (e, _, _) in running.items()},
                 "tag": farm.tag if farm is not None else world.get("tag")}
        for name, (emulator, snap, attr) in running.items():
            saved[name] = snap.snapshot(getattr(emulator, attr))
        write_json(sandbox.world_file, saved)
    finally:
        stack.close()
        if farm is not None:
            farm.stop_all()
        sandbox.run_file.unlink(missing_ok=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    serve(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 10.0)
