"""Fan-out of a NixOS update: plan and apply an update of 1 machine, then of 16, on local hosts (network
namespaces with their own sshd and /nix, reconciler/sandbox/hosts.py) behind links delayed 30 ms each way (as a
fleet in another region; `--delay-ms`), through the nixos provider exactly as the engine drives it (one plan
call for the batch, apply calls in parallel up to `max_parallel`).

Prints the wall time of each update (plan + build + copy + activate + confirm), the ratio t(16)/t(1) (goal at
most 2.0), the CPU of the reconciler side per host, the SSH round trips per update (counted by the delaying
relay, on kernels without tc netem) and how many nix processes each plan started (goal 1), counted by a `nix`
wrapper that logs each start. Needs root, iproute2, openssh-server and nix-bin (the hosts); prints the reason
and exits 0 when they are absent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from providers.base import (
    ApplyRequest,
    ApplyResponse,
    PlanRequest,
    PlanResponse,
    ProviderConfig,
    RecordedResource,
)
from reconciler.actions import Action
from reconciler.nixos import NixosProvider, create_provider
from reconciler.sandbox.hosts import NIX_CONF, HostFarm
from reconciler.sandbox.hosts import Host as TestHost
from reconciler.sandbox.netns import missing_requirements
from tests.hosts.farm import STAND_IN
from tests.hosts.flakes import TestSystem, write_flake

TYPE = "nixos_machine"
CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuMeter:
    """CPU seconds through cgroup-v1 cpuacct groups of our own, when the machine has them: one for this process
    and what it starts (reconciler, local nix, ssh), one for the test hosts (their sshd and everything run
    there: nix-daemon, nix-env, activation, watchdogs). Wall time on a busy machine lies; these do not."""

    def __init__(self) -> None:
        base = CPUACCT / f"reconciler-fanout-{os.getpid()}"
        self.local: Path | None = base
        self.hosts: Path | None = base / "hosts"
        try:
            self.hosts.mkdir(parents=True)
            (base / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            self.local = self.hosts = None

    def adopt_hosts(self, hosts: Sequence[TestHost]) -> None:
        if self.hosts is None:
            return
        for host in hosts:
            for pid in subprocess.run(["ip", "netns", "pids", host.namespace], capture_output=True,
                                      text=True).stdout.split():
                (self.hosts / "cgroup.procs").write_text(pid)

    def seconds(self) -> tuple[float, float]:
        """(CPU of the reconciler side, CPU of the test hosts)."""
        if self.local is None or self.hosts is None:
            return 0.0, 0.0
        total = int((self.local / "cpuacct.usage").read_text()) / 1e9
        hosts = int((self.hosts / "cpuacct.usage").read_text()) / 1e9
        return total - hosts, hosts

    def close(self) -> None:
        if self.local is None or self.hosts is None:
            return
        try:
            (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
            self.hosts.rmdir()
            self.local.rmdir()
        except OSError:
            pass


class Journal:
    def intend(self, **data: object) -> None: ...

    def record(self, id: str, attributes: object, private: object = None) -> None: ...

    def phase(self, name: str) -> None: ...


def counting_nix(directory: Path) -> tuple[str, Path]:
    log = directory / "nix-starts.log"
    wrapper = directory / "nix"
    wrapper.write_text(f'#!/bin/sh\necho "$1 $2 $3 $4" >> {log}\nexec {shutil.which("nix")} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper), log


def nix_starts(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def config_of(farm: HostFarm, host: TestHost, name: str) -> dict[str, object]:
    return {"target_host": host.address, "ssh_private_key_file": str(farm.client_key), "flake": f".#{name}"}


async def apply_all(prov: NixosProvider, action: Action, plans: Sequence[PlanResponse],
                    state: dict[str, RecordedResource]) -> list[ApplyResponse]:
    limit = asyncio.Semaphore(prov.max_parallel)

    async def one(plan: PlanResponse) -> ApplyResponse:
        async with limit:
            return await prov.apply(ApplyRequest(plan.address, TYPE, action, plan.planned, state.get(plan.address)),
                                    Journal())

    return list(await asyncio.gather(*(one(p) for p in plans)))


def round_trips(hosts: Sequence[TestHost]) -> int | None:
    counts = [h.round_trips() for h in hosts]
    return None if any(c is None for c in counts) else sum(c or 0 for c in counts)


def update(prov: NixosProvider, farm: HostFarm, hosts: list[TestHost], names: list[str], workdir: Path,
           state: dict[str, RecordedResource], version: str, log: Path,
           cpu: CpuMeter) -> tuple[float, tuple[float, float], int, float | None]:
    """Move `names` to `version`; returns (wall seconds and (local, hosts) CPU seconds of plan + apply, nix
    processes the plan started, SSH round trips per updated host or None when not counted)."""
    systems = {n: TestSystem(version if n in names else state_version(state, n)) for n in all_names(hosts)}
    write_flake(workdir, systems)
    requests = [PlanRequest(f"{TYPE}.{n}", TYPE, config_of(farm, hosts[i], n), state.get(f"{TYPE}.{n}"))
                for i, n in enumerate(all_names(hosts)) if n in names]
    start = time.perf_counter()
    builds0 = prov.ctx.builder.processes
    cpu0 = cpu.seconds()
    before = len(nix_starts(log))
    trips0 = round_trips(hosts)
    plans = prov.plan(requests)
    plan_processes = len(nix_starts(log)) - before
    changed = [p for p in plans if p.planned["toplevel"] != state[p.address].attributes["toplevel"]]
    assert len(changed) == len(names), "every machine should have a new toplevel"
    responses = asyncio.run(apply_all(prov, Action.NIXOS_UPDATE, changed, state))
    wall = time.perf_counter() - start
    cpu1 = cpu.seconds()
    used = (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1])
    trips1 = round_trips(hosts)
    trips = None if trips0 is None or trips1 is None else (trips1 - trips0) / len(names)
    print(f"  updated {len(names)} host(s) in {wall:.2f} s, CPU {used[0]:.2f} s here + {used[1]:.2f} s on the "
          f"hosts; nix eval processes in plan: {plan_processes}, nix builds in apply: "
          f"{prov.ctx.builder.processes - builds0}; SSH round trips per host: "
          f"{'n/a' if trips is None else f'{trips:.0f}'}")
    for plan, resp in zip(changed, responses, strict=True):
        assert resp.attributes["toplevel"] == plan.planned["toplevel"]
        state[plan.address] = RecordedResource(plan.address, TYPE, resp.id, resp.attributes, resp.private)
    for i, n in enumerate(all_names(hosts)):
        if n in names:
            assert hosts[i].current_system() == state[f"{TYPE}.{n}"].attributes["toplevel"]
    return wall, used, plan_processes, trips


def all_names(hosts: list[TestHost]) -> list[str]:
    return [f"m{i:02d}" for i in range(len(hosts))]


def state_version(state: dict[str, RecordedResource], name: str) -> str:
    toplevel = str(state[f"{TYPE}.{name}"].attributes["toplevel"])
    return toplevel.rsplit("-", 1)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="update rounds per size; the best is reported")
    parser.add_argument("--delay-ms", type=float, default=30.0, help="link delay each way (default 30 ms)")
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        print(f"nixos_fanout: skipped: {reason}")
        return 0
    os.environ["NIX_CONFIG"] = NIX_CONF
    os.environ.setdefault("RECONCILER_AGE_IDENTITY", str(Path(tempfile.mkdtemp()) / "age-identity.txt"))
    workdir = Path(tempfile.mkdtemp(prefix="nixos-fanout-"))
    nix, log = counting_nix(workdir)
    cpu = CpuMeter()
    with HostFarm(delay_ms=args.delay_ms) as farm:
        hosts = farm.create(args.hosts)
        cpu.adopt_hosts(hosts)
        print(f"links: {args.delay_ms:g} ms each way ({hosts[0].delay.value}: "
              f"{'tc netem' if hosts[0].delay.value == 'netem' else 'a delaying relay, no netem in this kernel'})")
        names = all_names(hosts)
        write_flake(workdir, {n: TestSystem("0") for n in names})
        settings = {"nix": nix, "nixos_anywhere": str(STAND_IN), "parallelism": args.hosts, "poll_interval": 0.05,
                    "confirm_timeout": 10.0, "connect_timeout": 5.0, "reboot_timeout": 60.0}
        prov = create_provider(ProviderConfig("nixos", settings, "bench", workdir))
        try:
            t0 = time.perf_counter()
            reqs = [PlanRequest(f"{TYPE}.{n}", TYPE, config_of(farm, hosts[i], n), None) for i, n in enumerate(names)]
            installed = asyncio.run(apply_all(prov, Action.INSTALL, prov.plan(reqs), {}))
            state = {f"{TYPE}.{n}": RecordedResource(f"{TYPE}.{n}", TYPE, r.id, r.attributes, r.private)
                     for n, r in zip(names, installed, strict=True)}
            print(f"setup: installed {len(hosts)} test hosts in {time.perf_counter() - t0:.1f} s")
            one, many, procs, cpu1, cpun, trips = [], [], [], [], [], []
            version = 1
            for _ in range(args.rounds):
                wall, used, p1, rt = update(prov, farm, hosts, names[:1], workdir, state, str(version), log, cpu)
                one.append(wall)
                trips.append(rt)
                cpu1.append(used)
                version += 1
                wall, used, pn, _ = update(prov, farm, hosts, names, workdir, state, str(version), log, cpu)
                many.append(wall)
                cpun.append(used)
                version += 1
                procs += [p1, pn]
        finally:
            asyncio.run(prov.close())
    cpu.close()
    shutil.rmtree(workdir, ignore_errors=True)
    t1, tn = min(one), min(many)
    ratio = tn / t1
    print(f"update 1 host:  {t1:.2f} s (rounds: {', '.join(f'{t:.2f}' for t in one)})")
    print(f"update {args.hosts} hosts: {tn:.2f} s (rounds: {', '.join(f'{t:.2f}' for t in many)})")
    print(f"ratio t({args.hosts})/t(1): {ratio:.2f} (goal <= 2.0) {'OK' if ratio <= 2.0 else 'MISSED'}")
    counted = [t for t in trips if t is not None]
    print(f"SSH round trips per update of one host: {min(counted):.0f}" if counted else
          "SSH round trips per update: not counted (netem links; the relay counts them)")
    if cpu.local is not None:
        (l1, h1), (ln, hn) = min(cpu1), min(cpun)
        n = args.hosts
        print(f"CPU, 1 host: {l1:.2f} s reconciler side + {h1:.2f} s on the host; {n} hosts: {ln:.2f} s + {hn:.2f} s "
              f"({1000 * ln / n:.0f} + {1000 * hn / n:.0f} ms per host). The {n} test hosts share this machine's "
              f"{os.cpu_count()} cores with the reconciler; on a real fleet their part runs on the targets.")
        cores = os.cpu_count() or 1
        print(f"t({n}) can be no less than {(ln + hn) / cores:.2f} s here (all CPU / {cores} cores); the reconciler's "
              f"own share alone would take {ln / cores:.2f} s")
    worst = max(procs)
    print(f"nix processes per plan: {worst} (goal 1) {'OK' if worst == 1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
