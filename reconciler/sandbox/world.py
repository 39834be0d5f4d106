"""Where a configuration's sandbox keeps its world, and what the rest of reconciler may ask about it.

Everything lives under `.reconciler/sandbox/` of the configuration directory: `world.json` (the API ports, the
emulated servers and instances, the host-farm tag; written at `down`), `hosts/` (the hosts' trees and the
client key that logs into them), `bin/nixos-anywhere` (the sandbox installer), `run.json` (while it runs: pid,
endpoints, whether it has hosts) and `sandbox.log`. The endpoints reach the configuration through
`sandbox_override.tf` beside the user's files, merged as Terraform merges override files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError

OVERRIDE_FILE = "sandbox_override.tf"
OVERRIDE_HEADER = "# Written by `reconciler sandbox up`: points the providers at this configuration's sandbox."
PROVIDER_BLOCK = re.compile(r'^\s*provider\s+"(\w+)"', re.MULTILINE)
SETTINGS = {"hcloud": {"token": "sandbox"}}  # besides the endpoint (google takes anonymous credentials then)


class SandboxNotRunning(ReconcilerError):
    """The configuration points at its sandbox (sandbox_override.tf), which is not running."""


@dataclass(frozen=True)
class SandboxDir:
    """Where a configuration's embedded sandbox keeps its files."""
    config: Path

    @property
    def root(self) -> Path:
        return self.config / ".reconciler" / "sandbox"

    @property
    def world_file(self) -> Path:
        return self.root / "world.json"

    @property
    def run_file(self) -> Path:
        return self.root / "run.json"

    @property
    def hosts(self) -> Path:
        return self.root / "hosts"

    @property
    def installer(self) -> Path:
        return self.root / "bin" / "nixos-anywhere"

    @property
    def log(self) -> Path:
        return self.root / "sandbox.log"

    @property
    def override(self) -> Path:
        return self.config / OVERRIDE_FILE


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running(config: Path) -> dict[str, Any] | None:
    """The run record of the configuration's sandbox when its daemon is alive, else None."""
    data = read_json(SandboxDir(config).run_file)
    if data is None or not alive(int(data.get("pid", 0))):
        return None
    return data


def check_running(config: Path) -> dict[str, Any] | None:
    """None when the configuration does not use a sandbox; its run record when it does and it runs; one
    clear error at once when it does and it is stopped (rather than connection retries)."""
    if not (config / OVERRIDE_FILE).exists():
        return None
    data = running(config)
    if data is None:
        raise SandboxNotRunning(f"the sandbox of this configuration is not running ({OVERRIDE_FILE} points at it)",
                                hint=f"start it with: reconciler sandbox up -C {config}, or delete {OVERRIDE_FILE}")
    return data


def installer_for(config: Path) -> str | None:
    """The sandbox installer when this configuration's sandbox runs with hosts, else None."""
    data = running(config)
    if data is None or not data.get("hosts"):
        return None
    return str(SandboxDir(config).installer)


def write_installer(sandbox: SandboxDir) -> Path:
    """The `nixos-anywhere` of the sandbox: this Python running reconciler.sandbox.installer."""
    package_root = Path(__file__).resolve().parents[2]
    script = (f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(package_root)!r})\n"
              "from reconciler.sandbox.installer import run\nsys.exit(run(sys.argv[1:]))\n")
    sandbox.installer.parent.mkdir(parents=True, exist_ok=True)
    sandbox.installer.write_text(script)
    sandbox.installer.chmod(0o755)
    return sandbox.installer


def declared_providers(config: Path) -> set[str]:
    """Provider names with a block in the configuration's normal (not override) files."""
    from reconciler.config.overrides import is_override

    names: set[str] = set()
    for path in sorted(config.glob("*.tf")) + sorted(config.glob("*.tf.json")):
        if is_override(path.name):
            continue
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
            text = path.read_text()
            if path.name.endswith(".json"):
                provider = json.loads(text).get("provider", {})
                names.update(provider if isinstance(provider, dict) else {})
            else:
                names.update(PROVIDER_BLOCK.findall(text))
    return names


def write_override(sandbox: SandboxDir, endpoints: dict[str, str]) -> list[str]:
    """Write sandbox_override.tf for the providers the configuration declares; the names written."""
    declared = declared_providers(sandbox.config)
    blocks, names = [], []
    for name, endpoint in sorted(endpoints.items()):
        if name not in declared:
            continue
        settings = {"endpoint": endpoint, **SETTINGS.get(name, {})}
        width = max(len(k) for k in settings)
        body = "\n".join(f'  {k:<{width}} = "{v}"' for k, v in settings.items())
        blocks.append(f'provider "{name}" {{\n{body}\n}}\n')
        names.append(name)
    sandbox.override.write_text(OVERRIDE_HEADER + "\n# Delete it to use the real clouds.\n\n" + "\n".join(blocks))
    return names
