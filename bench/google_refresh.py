"""Count the Compute Engine API requests the google provider makes, against the emulator.

1. A refresh of 1,000 recorded instances in several zones, one in ten a GPU node, with 200 instances of
   another state among them (goal: at most 4 requests: the label-filtered aggregatedList at 500 to a page,
   plus one acceleratorTypes aggregatedList for the accelerator check).
2. For scale, creating 20 instances at once with 12 s (emulated) insert operations, the first zone out of
   capacity for half of them: requests per instance.

Prints the counts by method and path; exits 1 when the refresh goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from providers.base import ApplyRequest, ProviderConfig, RecordedResource, RefreshRequest, ownership_labels
from providers.google import GoogleProvider, RetryPolicy, create_provider
from providers.google.emulator import Emulator, start_emulator
from reconciler.actions import Action

LINEAGE = "bench-0000-4000-8000-google"
PROJECT = "bench"
TYPE = "google_compute_instance"
ZONES = ("us-central1-a", "us-central1-b", "europe-west4-a", "europe-west4-b", "asia-southeast1-a")
IMAGE = "projects/debian-cloud/global/images/family/debian-12"


class _Journal:
    def intend(self, **data: Any) -> None:
        return None

    def record(self, id: str, attributes: Any, private: Any = None) -> None:
        return None

    def phase(self, name: str) -> None:
        return None


def provider_for(emu: Emulator) -> GoogleProvider:
    provider = create_provider(ProviderConfig("google", {"project": PROJECT, "endpoint": emu.endpoint}, LINEAGE,
                                              Path(".")), retry=RetryPolicy(base=0.01))
    assert isinstance(provider, GoogleProvider)
    return provider


def show(title: str, counts: dict[str, int], extra: str) -> int:
    total = sum(counts.values())
    print(f"{title}: {total} requests {extra}")
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:6d}  {key}")
    return total


def seed(emu: Emulator, name: str, zone: str, machine: str, labels: dict[str, str]) -> None:
    emu.add_instance(PROJECT, zone, {
        "name": name, "machineType": f"zones/{zone}/machineTypes/{machine}",
        "disks": [{"boot": True, "initializeParams": {"sourceImage": IMAGE, "diskType": "pd-balanced"}}],
        "networkInterfaces": [{"network": "global/networks/default"}], "labels": labels})


def refresh_bench(n: int, foreign: int) -> bool:
    with start_emulator() as emu:
        records = []
        for i in range(n):
            address = f"google_compute_instance.m[{i}]"
            zone = ZONES[i % len(ZONES)]
            seed(emu, f"m{i:04d}", zone, "g2-standard-4" if i % 10 == 0 else "e2-small",
                 ownership_labels(LINEAGE, address))
            records.append(RecordedResource(address, TYPE, f"projects/{PROJECT}/zones/{zone}/instances/m{i:04d}", {}))
        for i in range(foreign):
            seed(emu, f"x{i:04d}", ZONES[i % len(ZONES)], "e2-micro", ownership_labels("another-state", f"x.x[{i}]"))
        provider = provider_for(emu)

        async def refresh() -> Any:
            try:
                return await provider.refresh(RefreshRequest(tuple(records), ()))
            finally:
                await provider.close()

        started = time.monotonic()
        answer = asyncio.run(refresh())
        wall = time.monotonic() - started
        ok_found = len(answer.found) == n and not answer.gone and not answer.warnings
        total = show(f"refresh of {n} recorded instances ({n // 10} with GPUs, {foreign} of another state around)",
                     emu.request_counts, f"(goal <= 4; {len(answer.found)} found, {wall:.2f} s wall)")
        return ok_found and total <= 4


def create_bench(n: int) -> None:
    with start_emulator(time_scale=0.01, stockouts=[{"zone": "us-central1-a", "machine_type": "n2-standard-4"}]) as emu:
        provider = provider_for(emu)

        def config(i: int) -> dict[str, Any]:
            return {"name": f"c{i:02d}", "machine_type": "n2-standard-4" if i % 2 else "e2-standard-4",
                    "zones": ["us-central1-a", "us-central1-b"],
                    "boot_disk": [{"initialize_params": [{"image": "debian-cloud/debian-12"}]}],
                    "network_interface": [{"network": "default", "access_config": [{}]}]}

        async def create_all() -> list[Any]:
            try:
                return list(await asyncio.gather(*(provider.apply(ApplyRequest(
                    f"{TYPE}.c[{i}]", TYPE, Action.CREATE, config(i), None), _Journal()) for i in range(n))))
            finally:
                await provider.close()

        started = time.monotonic()
        made = asyncio.run(create_all())
        wall = time.monotonic() - started
        moved = sum(1 for m in made if m.attributes["zone"] == "us-central1-b")
        show(f"create of {n} instances, {moved} moved on to a second zone", emu.request_counts,
             f"= {emu.request_total / n:.2f} per instance ({wall:.2f} s wall)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000, help="recorded instances to refresh")
    parser.add_argument("--foreign", type=int, default=200, help="instances of another state in the project")
    parser.add_argument("--creates", type=int, default=20, help="instances to create at once")
    args = parser.parse_args()
    ok = refresh_bench(args.instances, args.foreign)
    print()
    create_bench(args.creates)
    print()
    print("goal met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
