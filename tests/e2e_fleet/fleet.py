"""A whole fleet driven through the real CLI: a configuration directory holding the `*.tf` files (three
`hcloud_server` with `for_each`, an `hcloud_ssh_key`, a `nixos_machine` on each server, optionally an inventory)
and a test flake, the Hetzner emulator handing out the test hosts' addresses as server IPv4s, and the stand-in
nixos-anywhere. `FleetDir.run` runs `python -m reconciler ... -C DIR --no-color` as a subprocess; the helpers
read what a user would read (plan lines, state, `inventory.json`) and what the hosts record.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.hcloud.emulator import Emulator
from tests.hosts import STAND_IN, HostFarm, TestHost, TestSystem, offline_nix_env, write_flake

ROOT = Path(__file__).resolve().parents[2]
STATE = "reconciler.state.json"
HCLOUD_TOKEN = "fleet-e2e-token"
HCLOUD_SCALE = 1000.0  # emulated seconds per real second: a 10 s server create takes 10 ms
HCLOUD_POLL = 0.5 / HCLOUD_SCALE  # the provider's first action poll, scaled alike
CLI_TIMEOUT = 240.0

# a plan's resource block: '  # nixos_machine.node["b"] will ...', maybe '  # (because ...)' lines, then
# '  ^ resource "nixos_machine" "node" {', its attribute lines, and '    }'
PLAN_BLOCK = re.compile(r"^  # (\S+) [^\n]*\n(?:  # [^\n]*\n)*"
                        r"\s*(-/\+|\+/-|[+~>^z-]) resource [^\n]*\{\}?\n((?:[^\n]+\n)*)", re.MULTILINE)
ACTIONS_HEADER = "reconciler will perform the following actions:"

# The test flake's switch-to-configuration records "ACTION SYSTEM" per activation; the fleet's flakes also
# record when, so that activations on different hosts can be put in order.
TIMES_FILE = "run/reconciler-test/activation-times"
_RECORD = 'echo "$action $self" >> /run/reconciler-test/activations\n'
_TIMED = _RECORD + 'echo "$(date +%s%N) $action $self" >> /run/reconciler-test/activation-times\n'


@dataclass(frozen=True)
class Result:
    """A finished CLI run."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def explain(self) -> str:
        return f"reconciler {' '.join(self.args)} -> {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    def changes(self) -> list[tuple[str, str, str]]:
        """(symbol, address, attribute lines) of every resource block of the plan this run printed, in order."""
        if ACTIONS_HEADER not in self.stdout:
            return []
        body = self.stdout.split(ACTIONS_HEADER, 1)[1].split("\nPlan: ", 1)[0]
        return [(m.group(2), m.group(1), m.group(3)) for m in PLAN_BLOCK.finditer(body)]

    def symbols(self) -> set[tuple[str, str]]:
        return {(symbol, address) for symbol, address, _ in self.changes()}


def write_timed_flake(directory: Path, systems: Mapping[str, TestSystem]) -> None:
    """`write_flake`, with every activation also recorded with its time (ns) in TIMES_FILE on the host."""
    write_flake(directory, systems)
    spec_file = directory / "machines.json"
    spec = json.loads(spec_file.read_text())
    for name, machine in spec.items():
        if _RECORD not in machine["script"]:
            raise AssertionError(f"the test flake's switch script for {name} no longer records activations "
                                 f"as {_RECORD.strip()!r}; update tests/e2e_fleet/fleet.py")
        machine["script"] = machine["script"].replace(_RECORD, _TIMED, 1)
    spec_file.write_text(json.dumps(spec, indent=2, sort_keys=True))


def activation_times(host: TestHost) -> list[tuple[int, str, str]]:
    """(time in ns, action, system) of every activation the host recorded, oldest first."""
    path = host.directory / TIMES_FILE
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        ns, action, system = line.split()
        rows.append((int(ns), action, system))
    return rows


def short_matches(short: str, full: str) -> bool:
    """Whether a plan's store path stands for `full`: the same, or shortened ("abcdefgh…-name")."""
    if short == full:
        return True
    head, sep, tail = short.partition("…")
    return bool(sep) and full.startswith("/nix/store/" + head) and full.endswith(tail)


@dataclass
class FleetDir:
    """The configuration directory of one fleet, with the emulator and the hosts it runs on."""

    directory: Path
    farm: HostFarm
    emulator: Emulator
    hosts: list[TestHost]
    identity: Path
    systems: dict[str, TestSystem] = field(default_factory=dict)

    # -- the configuration --------------------------------------------------------------------------------------
    def write_config(self, names: tuple[str, ...], toggled: str, inventory: str = "") -> None:
        """Servers and machines for `names`; the server of `toggled` follows `var.on_<toggled>`."""
        listed = ", ".join(f'"{n}"' for n in names)
        text = f"""\
            provider "hcloud" {{
              token         = "{HCLOUD_TOKEN}"
              endpoint      = "{self.emulator.endpoint}"
              poll_interval = {HCLOUD_POLL}
            }}

            variable "on_{toggled}" {{
              type    = bool
              default = true
            }}

            resource "hcloud_ssh_key" "admin" {{
              name       = "admin"
              public_key = "{self.farm.client_public_key}"
            }}

            resource "hcloud_server" "node" {{
              for_each    = toset([{listed}])
              enabled     = each.key == "{toggled}" ? var.on_{toggled} : true
              name        = each.key
              server_type = "cx23"
              image       = "ubuntu-24.04"
              location    = "nbg1"
              ssh_keys    = [hcloud_ssh_key.admin.id]
              labels      = {{ fleet = "e2e" }}
            }}

            resource "nixos_machine" "node" {{
              for_each             = hcloud_server.node
              target_host          = each.value.ipv4_address
              flake                = ".#${{each.key}}"
              ssh_private_key_file = "{self.farm.client_key}"
            }}
            """
        (self.directory / "main.tf").write_text(textwrap.dedent(text) + textwrap.dedent(inventory))

    def set_systems(self, **systems: TestSystem) -> None:
        self.systems.update(systems)
        write_timed_flake(self.directory, self.systems)

    # -- the CLI --------------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in offline_nix_env().items() if not k.startswith(("HCLOUD_", "TF_VAR_", "GOOGLE_"))}
        env["PYTHONPATH"] = str(ROOT)
        env["RECONCILER_NIXOS_ANYWHERE"] = str(STAND_IN)
        env["RECONCILER_AGE_IDENTITY"] = str(self.identity)
        return env

    def run(self, *args: str, code: int | None = 0) -> Result:
        argv = [sys.executable, "-m", "reconciler", *args, "-C", str(self.directory), "--no-color"]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=self.directory, env=self.env(),
                              timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
        result = Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)
        if code is not None:
            assert result.code == code, result.explain()
        return result

    # -- what there is to read ------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / STATE).read_text())
        return data

    def resource(self, address: str) -> dict[str, Any]:
        res: dict[str, Any] = self.state()["resources"][address]
        return res

    def host_of(self, name: str) -> TestHost:
        """The test host the emulator gave to server `name` (by the address state records for it)."""
        ip = self.resource(server(name))["attributes"]["ipv4_address"]
        (host,) = [h for h in self.hosts if h.address == ip]
        return host

    def replace_host(self, old: TestHost, new: TestHost) -> None:
        self.hosts = [new if h is old else h for h in self.hosts]

    def servers(self) -> dict[str, dict[str, Any]]:
        """The emulator's servers of this fleet, by name."""
        lineage = self.state()["lineage"]
        return {s["name"]: s for s in self.emulator.servers() if s["labels"].get("reconciler-lineage") == lineage}

    def inventory(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / "inventory.json").read_text())
        return data

    def vars_public_keys(self) -> set[str]:
        """Every public host key in the vars tree ("ssh-ed25519 AAAA...")."""
        root = self.directory / "vars" / "per-machine"
        return {p.read_text().strip() for p in root.glob("*/ssh_host_key/ssh_host_ed25519_key.pub/value")}

    def vars_snapshot(self) -> dict[str, bytes]:
        """Every file of the vars tree (public values and encrypted secrets), by relative path."""
        root = self.directory / "vars"
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    def ssh(self, host: TestHost, known_hosts: Path, command: str) -> subprocess.CompletedProcess[str]:
        """Run `command` on `host` with OpenSSH holding it strictly to the keys in `known_hosts`."""
        return subprocess.run(
            ["ssh", "-i", str(self.farm.client_key), "-o", "StrictHostKeyChecking=yes",
             "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
             "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", host.target, command],
            capture_output=True, text=True, timeout=30, env={**os.environ, "HOME": str(self.directory.parent)},
        )


def server(name: str) -> str:
    return f'hcloud_server.node["{name}"]'


def machine(name: str) -> str:
    return f'nixos_machine.node["{name}"]'
