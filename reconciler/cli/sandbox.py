"""`reconciler sandbox up|down|status`: start, stop and show the configuration's sandbox (reconciler/sandbox):
the cloud API emulators and, as root on Linux, the hosts they hand out as server addresses. `up` starts the
daemon in the background, waits for it, and writes `sandbox_override.tf`; `down` stops it and waits until
every host is gone; the world stays under `.reconciler/sandbox/` for the next `up`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reconciler.cli.console import Out
from reconciler.errors import ReconcilerError
from reconciler.sandbox.world import SandboxDir, alive, running, write_override

START_TIMEOUT = 120.0  # restarting many hosts takes a while
STOP_TIMEOUT = 120.0


def _describe(out: Out, data: dict[str, Any], written: list[str] | None = None) -> None:
    for name, endpoint in sorted(data["endpoints"].items()):
        out.text(f"  {name:<7} {endpoint}")
    if written is not None:
        which = ", ".join(f'provider "{n}"' for n in written) or "no provider block (none declared)"
        out.text(f"sandbox_override.tf points {which} at it.")
    if data.get("hosts"):
        out.text("Servers get local hosts (sshd, /nix) as addresses; NixOS installs with the sandbox installer; "
                 f"their SSH key: {data.get('client_key')}")
    else:
        out.text(f"Cloud APIs only: {data.get('no_hosts_reason')}. Servers get loopback addresses that no SSH "
                 "answers on; run `sudo reconciler sandbox up` on Linux (with nix-bin, openssh-server, iproute2) "
                 "for hosts that NixOS installs onto.")


def _up(sandbox: SandboxDir, speed: float, out: Out) -> int:
    data = running(sandbox.config)
    if data is not None:
        out.text(f"The sandbox is already running (pid {data['pid']}):")
        _describe(out, data, write_override(sandbox, data["endpoints"]))
        return 0
    sandbox.root.mkdir(parents=True, exist_ok=True)
    sandbox.run_file.unlink(missing_ok=True)
    with open(sandbox.log, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "reconciler.sandbox.daemon", str(sandbox.config), str(speed)],
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        data = running(sandbox.config)
        if data is not None:
            resumed = " with the world it had" if sandbox.world_file.exists() else ""
            out.text(f"The sandbox is up{resumed} (pid {data['pid']}):")
            _describe(out, data, write_override(sandbox, data["endpoints"]))
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    lines = sandbox.log.read_text(errors="replace").strip().splitlines() if sandbox.log.exists() else []
    last = lines[-1] if lines else "no output"
    raise ReconcilerError(f"the sandbox did not start: {last}", hint=f"see {sandbox.log}")


def _down(sandbox: SandboxDir, out: Out) -> int:
    data = running(sandbox.config)
    if data is None:
        out.text("The sandbox is not running.")
        return 0
    pid = int(data["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while alive(pid):
        if time.monotonic() > deadline:
            raise ReconcilerError(f"the sandbox (pid {pid}) did not stop within {STOP_TIMEOUT:g}s",
                                  hint=f"see {sandbox.log}")
        time.sleep(0.1)
    out.text(f"The sandbox is stopped; its world is kept in {sandbox.root} for the next `sandbox up`.")
    return 0


def cmd_sandbox(args: argparse.Namespace, out: Out) -> int:
    sandbox = SandboxDir(Path(args.dir).resolve())
    if args.sandbox_cmd == "up":
        return _up(sandbox, args.speed, out)
    if args.sandbox_cmd == "down":
        return _down(sandbox, out)
    data = running(sandbox.config)
    if data is None:
        out.text("The sandbox is not running. Start it with: reconciler sandbox up")
        return 1
    out.text(f"The sandbox is running (pid {data['pid']}):")
    _describe(out, data)
    return 0
