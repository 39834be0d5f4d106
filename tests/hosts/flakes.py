"""Test flakes: no inputs, no nixpkgs; each machine's `config.system.build.toplevel` is a tiny derivation
(builder /bin/sh) whose output has `bin/switch-to-configuration`. That script records each activation in
/run/reconciler-test/activations, points /run/current-system at its own store path on switch, makes sure the
host's sshd runs, and can be told to fail (`behaviour="fail"`) or to cut SSH off after switching
(`behaviour="cut-ssh"`: sshd and every session die a moment after the switch returns).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SWITCH_SCRIPT = r"""#!/bin/sh
self=@out@
action="$1"
mkdir -p /run/reconciler-test
echo "$action $self" >> /run/reconciler-test/activations
case "$action" in
  boot) exit 0 ;;
  switch|test) ;;
  *) echo "usage: switch-to-configuration boot|switch|test" >&2; exit 1 ;;
esac
ln -sfn "$self" /run/current-system.new && mv -T /run/current-system.new /run/current-system
# sshd is part of every configuration: start it when it is not running (after a cut-off, a rollback)
if ! { [ -e /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then
  /usr/sbin/sshd -f /etc/ssh/sshd_config
fi
@behaviour@
"""

BEHAVIOURS = {
    "ok": "exit 0",
    "fail": 'echo "error: the unit foo.service failed to start" >&2\nexit 4',
    # the switch itself succeeds, but sshd dies at once (no new connection gets through until something switches
    # back) and every open SSH session a moment later, as a broken firewall or sshd config would do
    "cut-ssh": (
        "pid=$(cat /run/sshd.pid)\n"
        "kill -KILL \"$pid\"; rm -f /run/sshd.pid\n"
        "setsid sh -c 'sleep 0.3; pkill -KILL -P \"$1\"' sh \"$pid\" </dev/null >/dev/null 2>&1 &\nexit 0"
    ),
}


@dataclass(frozen=True)
class TestSystem:
    """One machine's system: `version` changes the store path; `behaviour` is ok, fail or cut-ssh."""

    __test__ = False

    version: str = "1"
    behaviour: str = "ok"


FLAKE_TEMPLATE = """{
  description = "reconciler test flake";
  outputs = { self }:
    let
      machines = builtins.fromJSON (builtins.readFile ./machines.json);
      system = name: spec: builtins.derivation {
        name = "nixos-system-${name}-${spec.version}";
        system = "x86_64-linux";
        builder = "/bin/sh";
        script = spec.script;
        args = [ "-c" ''
          /bin/mkdir -p $out/bin
          printf '%s\\n' "$script" | while IFS= read -r line; do
            case "$line" in
              *@out@*) printf '%s\\n' "self=$out" ;;
              *) printf '%s\\n' "$line" ;;
            esac
          done > $out/bin/switch-to-configuration
          /bin/chmod 555 $out/bin/switch-to-configuration
          echo ${name} > $out/name
        '' ];
      };
    in {
      nixosConfigurations = builtins.mapAttrs (name: spec: {
        config.system.build.toplevel = system name spec;
      }) machines;
    };
}
"""


def write_flake(directory: Path, machines: Mapping[str, TestSystem]) -> Path:
    """Write (or rewrite) a test flake with one nixosConfiguration per machine; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "flake.nix").write_text(FLAKE_TEMPLATE)
    spec = {
        name: {"version": system.version,
               "script": SWITCH_SCRIPT.replace("@behaviour@", BEHAVIOURS[system.behaviour])}
        for name, system in machines.items()
    }
    (directory / "machines.json").write_text(json.dumps(spec, indent=2, sort_keys=True))
    return directory
