"""Time `reconciler plan --no-refresh` on generated terranix-style fleets of 1,000 and 10,000 machines.

Each machine is an `hcloud_server` plus a `nixos_machine` on it, in one `config.tf.json`, with an inventory
that gives every machine a role (`service "users" { role "default" { tags = ["all"] } }`, CONTRACT §3's own
example). Two cases per size:

- empty: no state (every server created, every machine installed);
- no-change: a state recording every server and every machine with its deployed toplevel, the
  inventory.json the last apply wrote, and (when nix is installed) a flake whose toplevels are those
  recorded, so the plan runs the one `nix eval` of all N machines and finds nothing to do.

Prints wall time and peak RSS of the whole process (from wait4's rusage) per case and size, the ratio
t(large)/t(small) and the growth exponent, each beside its goal: 10,000 machines in <= 3 s and <= 400 MB,
t(10k)/t(1k) <= 12, and the no-change plan as fast as the empty one.

The package is byte-compiled first, as an installed wheel is (with PYTHONDONTWRITEBYTECODE set and no
__pycache__, every plan would compile the ~100 modules it imports anew: about 0.1 s per plan);
`--no-compile` measures that way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINEAGE = "00000000-0000-4000-8000-00000000bench"
NIX_CONF = "experimental-features = nix-command flakes\nsubstituters =\nflake-registry = /dev/null\nsandbox = false\n"
FLAKE = """{
  outputs = { self }: {
    nixosConfigurations = builtins.mapAttrs (name: v: {
      config.system.build.toplevel = builtins.derivation {
        name = "nixos-system-${name}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ];
      };
    }) (builtins.fromJSON (builtins.readFile ./machines.json));
  };
}
"""
GOAL_WALL, GOAL_MB, GOAL_RATIO = 3.0, 400.0, 12.0
ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def name_of(i: int) -> str:
    return f"m{i:05d}"


def address_of(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def server_address(shape: str, name: str) -> str:
    return f'hcloud_server.node["{name}"]' if shape == "for_each" else f"hcloud_server.{name}"


def machine_address(shape: str, name: str) -> str:
    return f'nixos_machine.node["{name}"]' if shape == "for_each" else f"nixos_machine.{name}"


def fleet(n: int, shape: str = "terranix") -> dict[str, object]:
    if shape == "for_each":  # issue 12's shape: a map variable, servers for_each over it, a machine per server
        return {
            "provider": {"hcloud": {"token": "bench"}},
            "variable": {"machines": {"type": "map(string)", "default": {name_of(i): f"r{i % 40}" for i in range(n)}}},
            "resource": {
                "hcloud_ssh_key": {"admin": {"name": "admin", "public_key": ADMIN_KEY}},
                "hcloud_server": {"node": {"for_each": "${var.machines}", "name": "${each.key}",
                                           "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1",
                                           "labels": {"fleet": "bench", "rack": "${each.value}"},
                                           "ssh_keys": ["${hcloud_ssh_key.admin.name}"]}},
                "nixos_machine": {"node": {"for_each": "${hcloud_server.node}",
                                           "target_host": "${each.value.ipv4_address}", "flake": ".#${each.key}",
                                           "tags": ["all", "rack-${each.value.labels.rack}"]}}},
            "inventory": {"service": {"users": {"role": {"default": {"tags": ["all"]}},
                                                "settings": {"admins": ["ops"]}}}}}
    servers = {}
    machines = {}
    for i in range(n):
        name = name_of(i)
        servers[name] = {"name": name, "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1",
                         "labels": {"fleet": "bench", "rack": f"r{i % 40}"}, "ssh_keys": ["admin"]}
        machines[name] = {"target_host": f"${{hcloud_server.{name}.ipv4_address}}", "flake": f".#{name}",
                          "tags": ["all", f"rack-r{i % 40}"]}
    return {"provider": {"hcloud": {"token": "bench"}},
            "resource": {"hcloud_server": servers, "nixos_machine": machines},
            "inventory": {"service": {"users": {"role": {"default": {"tags": ["all"]}},
                                                "settings": {"admins": ["ops"]}}}}}


def toplevels(directory: Path, n: int) -> dict[str, str]:
    """Write the bench flake and evaluate it once (setup, not measured): machine -> toplevel."""
    (directory / "flake.nix").write_text(FLAKE)
    (directory / "machines.json").write_text(json.dumps({name_of(i): 1 for i in range(n)}))
    expr = (f'builtins.mapAttrs (k: v: v.config.system.build.toplevel.outPath) '
            f'(builtins.getFlake "{directory}").nixosConfigurations')
    out = subprocess.run(["nix", "eval", "--json", "--impure", "--expr", expr], capture_output=True, text=True,
                         env={**os.environ, "NIX_CONFIG": NIX_CONF}, check=True)
    result: dict[str, str] = json.loads(out.stdout)
    return result


def recorded_state(n: int, deployed: dict[str, str], shape: str) -> dict[str, object]:
    resources: dict[str, object] = {}
    if shape == "for_each":
        resources["hcloud_ssh_key.admin"] = {
            "type": "hcloud_ssh_key", "id": "1",
            "attributes": {"id": "1", "name": "admin", "labels": {}, "fingerprint": "fp",
                           "public_key": ADMIN_KEY}}
    for i in range(n):
        name, ip = name_of(i), address_of(i)
        resources[server_address(shape, name)] = {
            "type": "hcloud_server", "id": str(1000 + i),
            "attributes": {"id": str(1000 + i), "name": name, "server_type": "cx23", "image": "ubuntu-24.04",
                           "location": "fsn1", "labels": {"fleet": "bench", "rack": f"r{i % 40}"},
                           "ssh_keys": ["admin"], "ipv4_address": ip, "ipv6_address": f"2001:db8::{i:x}",
                           "status": "running", "backups": False, "user_data": None, "firewall_ids": [],
                           "public_net": [{"ipv4_enabled": True, "ipv6_enabled": True}]}}
        resources[machine_address(shape, name)] = {
            "type": "nixos_machine", "id": name,
            "attributes": {"target_host": ip, "flake": f".#{name}", "tags": ["all", f"rack-r{i % 40}"],
                           "target_user": "root", "target_port": 22, "rollback": True,
                           "require_explicit_update": False, "toplevel": deployed.get(name, f"/nix/store/x-{name}"),
                           "host_key": f"ssh-ed25519 AAAA{i:08d} {name}"},
            "private": {"install_phase": "done"}, "dependencies": [server_address(shape, name)]}
    return {"version": 1, "serial": 3, "lineage": LINEAGE, "resources": resources, "outputs": {}}


def inventory(n: int) -> dict[str, object]:
    names = [name_of(i) for i in range(n)]
    return {"format": 2, "services": {"users": {"settings": {"admins": ["ops"]}, "roles": {"default": names}}},
            "machines": {name_of(i): {"address": address_of(i), "roles": {"users": ["default"]}} for i in range(n)}}


def prepare(n: int, case: str, nix: bool, shape: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f"plan-scale-{case}-{n}-"))
    (tmp / "config.tf.json").write_text(json.dumps(fleet(n, shape)))
    if case == "no-change":
        deployed = toplevels(tmp, n) if nix else {}
        (tmp / "reconciler.state.json").write_text(json.dumps(recorded_state(n, deployed, shape)))
        (tmp / "inventory.json").write_text(json.dumps(inventory(n), indent=1, sort_keys=True) + "\n")
    return tmp


def measure(directory: Path, runs: int, check_no_change: bool) -> tuple[float, float, float]:
    """(median wall s, max peak MB, median CPU s of the process and its children, e.g. nix)."""
    walls, peaks, cpus = [], [], []
    env = {**os.environ, "NIX_CONFIG": NIX_CONF}
    for _ in range(runs):
        cmd = [sys.executable, "-m", "reconciler", "plan", "--no-refresh", "--no-color", "--detailed-exitcode",
               "-C", str(directory)]
        with tempfile.TemporaryFile() as output:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - start)
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, 2) or (check_no_change and code != 0):
                output.seek(0)
                raise SystemExit(f"plan of {directory} exited {code}: {output.read().decode()[-2000:]}")
        peaks.append(usage.ru_maxrss / 1024)
        cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), max(peaks), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--cases", nargs="+", default=["empty", "no-change"], choices=["empty", "no-change"])
    parser.add_argument("--shape", default="terranix", choices=["terranix", "for_each"],
                        help="terranix: one resource block per machine; for_each: issue 12's map + for_each fleet")
    parser.add_argument("--no-compile", action="store_true",
                        help="do not byte-compile the package first (each plan then compiles what it imports)")
    args = parser.parse_args()
    if not args.no_compile:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "reconciler", "providers", "schemas"], cwd=ROOT,
                       check=True, capture_output=True)  # as an installed package is: compiled once, not per run
    nix = shutil.which("nix") is not None
    print(f"shape: {args.shape}; nix on the PATH: {'yes' if nix else 'no (no-change plans evaluate nothing)'}; "
          f"package {'not ' if args.no_compile else ''}byte-compiled first")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall grows with the load; "
          "CPU s much less)")
    print(f"{'case':<10} {'machines':>9} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}")
    results: dict[tuple[str, int], tuple[float, float, float]] = {}
    for case in args.cases:
        for n in args.sizes:
            directory = prepare(n, case, nix, args.shape)
            try:
                results[case, n] = measure(directory, args.runs, check_no_change=case == "no-change")
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            wall, peak, cpu = results[case, n]
            print(f"{case:<10} {n:>9} {wall:>8.2f} {cpu:>8.2f} {peak:>8.1f}", flush=True)
    met = True
    small, large = min(args.sizes), max(args.sizes)
    for case in args.cases:
        wall, peak, cpu = results[case, large]
        line = (f"{case}: {large} machines {wall:.2f} s wall, {cpu:.2f} s CPU (goal <= {GOAL_WALL:.0f} s), "
                f"{peak:.0f} MB (goal <= {GOAL_MB:.0f})")
        met = met and wall <= GOAL_WALL and peak <= GOAL_MB
        if small != large:
            ratio = wall / results[case, small][0]
            cpu_ratio = cpu / results[case, small][2]
            exponent = math.log(ratio) / math.log(large / small)
            line += (f", t({large})/t({small}) = {ratio:.2f} wall, {cpu_ratio:.2f} CPU (goal <= {GOAL_RATIO:.0f}), "
                     f"exponent {exponent:.2f}")
            met = met and ratio <= GOAL_RATIO
        print(line)
    if "empty" in args.cases and "no-change" in args.cases:
        print(f"no-change / empty at {large}: {results['no-change', large][0] / results['empty', large][0]:.2f} "
              f"(goal: about 1)")
    print(f"goals: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
