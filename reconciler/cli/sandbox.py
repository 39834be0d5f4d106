"""`reconciler sandbox up|down|status`: the Hetzner Cloud and Compute Engine API emulators on loopback, in
one background process, so a whole fleet can be planned and applied on one machine.

`up` starts the daemon (this module run as `python -m reconciler.cli.sandbox`), which starts every emulator
that is installed, writes their endpoints to `.reconciler/sandbox.json` in the configuration directory and
serves until `down` sends it SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reconciler.cli.console import Out
from reconciler.errors import ReconcilerError

EMULATORS = {"hcloud": "providers.hcloud.emulator", "google": "providers.google.emulator"}


def _knobs(name: str, speed: float) -> dict[str, float]:
    """`speed` emulated seconds pass per real second; each emulator spells its clock its own way."""
    return {"time_scale": speed} if name == "hcloud" else {"time_scale": 1.0 / speed}
SETTINGS = {"hcloud": {"token": "sandbox"}, "google": {"project": "sandbox"}}


def _file(directory: Path) -> Path:
    return directory / ".reconciler" / "sandbox.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _read(directory: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(_file(directory).read_text())
    except (OSError, ValueError):
        return None
    return data if _alive(int(data.get("pid", 0))) else None


def _provider_blocks(data: dict[str, Any]) -> list[str]:
    out = []
    for name, endpoint in sorted(data["endpoints"].items()):
        settings = {**SETTINGS.get(name, {}), "endpoint": endpoint}
        body = "\n".join(f'  {k:<8} = "{v}"' for k, v in settings.items())
        out.append(f'provider "{name}" {{\n{body}\n}}')
    return out


def cmd_sandbox(args: argparse.Namespace, out: Out) -> int:
    directory: Path = args.dir
    running = _read(directory)
    if args.sandbox_cmd == "status":
        if running is None:
            out.text("The sandbox is not running. Start it with: reconciler sandbox up")
            return 1
        out.text(f"The sandbox is running (pid {running['pid']}). Provider settings:")
        out.text("\n".join(_provider_blocks(running)))
        return 0
    if args.sandbox_cmd == "down":
        if running is None:
            out.text("The sandbox is not running.")
            return 0
        os.kill(int(running["pid"]), signal.SIGTERM)
        for _ in range(50):
            if not _alive(int(running["pid"])):
                break
            time.sleep(0.1)
        _file(directory).unlink(missing_ok=True)
        out.text("The sandbox is stopped.")
        return 0
    if running is not None:
        out.text(f"The sandbox is already running (pid {running['pid']}).")
        out.text("\n".join(_provider_blocks(running)))
        return 0
    _file(directory).parent.mkdir(parents=True, exist_ok=True)
    _file(directory).unlink(missing_ok=True)
    log = open(directory / ".reconciler" / "sandbox.log", "ab")  # noqa: SIM115 - handed to the daemon
    proc = subprocess.Popen([sys.executable, "-m", "reconciler.cli.sandbox", str(directory), str(args.speed)],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        data = _read(directory)
        if data is not None:
            out.text("The sandbox is up. Put these provider blocks in your configuration:")
            out.text("\n".join(_provider_blocks(data)))
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise ReconcilerError("the sandbox did not start", hint=f"see {directory / '.reconciler' / 'sandbox.log'}")


def _daemon(directory: Path, speed: float) -> None:
    stack = contextlib.ExitStack()
    endpoints: dict[str, str] = {}
    for name, module in EMULATORS.items():
        try:
            start = importlib.import_module(module).start_emulator
        except (ImportError, AttributeError):
            continue
        emulator = stack.enter_context(start(host="127.0.0.1", port=0, **_knobs(name, speed)))
        endpoints[name] = emulator.endpoint
    if not endpoints:
        raise SystemExit("no emulator is installed")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tmp = _file(directory).with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "endpoints": endpoints}))
    tmp.replace(_file(directory))
    with stack:
        while not stopping:
            time.sleep(0.2)
    _file(directory).unlink(missing_ok=True)


if __name__ == "__main__":
    _daemon(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
