"""Count the Hetzner Cloud API requests the hcloud provider makes, against the emulator on a scaled clock.

1. A refresh of 1,000 recorded servers (goal: at most 22 requests in total, prices included).
2. Creating 20 servers at once whose actions take 30 s of emulated time (goal: at most 8 requests per server
   on average), then deleting them again.

Prints the counts by method and path, and the wall time (the emulator runs `--scale` times faster than
real time, so the script finishes in seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from providers.base import (
    ApplyRequest,
    ProviderConfig,
    RecordedResource,
    RefreshRequest,
    ownership_labels,
)
from providers.hcloud import HcloudProvider, create_provider
from providers.hcloud.emulator import Emulator, start_emulator
from reconciler.actions import Action

LINEAGE = "bench-0000-4000-8000-hcloud"


class _Journal:
    def intend(self, **data: Any) -> None:
        return None

    def record(self, id: str, attributes: Any, private: Any = None) -> None:
        return None

    def phase(self, name: str) -> None:
        return None


def provider_for(emu: Emulator, scale: float) -> HcloudProvider:
    return create_provider(ProviderConfig("hcloud", {"token": "bench", "endpoint": emu.endpoint,
                                                     "poll_interval": 0.5 / scale}, LINEAGE, Path(".")))


def show(title: str, counts: dict[str, int], extra: str) -> int:
    total = sum(counts.values())
    print(f"{title}: {total} requests {extra}")
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:6d}  {key}")
    return total


def refresh_bench(n: int, scale: float) -> bool:
    with start_emulator(time_scale=scale, token="bench") as emu:
        records = []
        for i in range(n):
            address = f"hcloud_server.m[{i}]"
            made = emu.add_server({"name": f"m{i:04d}", "server_type": "cx23", "image": "ubuntu-24.04",
                                   "location": "fsn1", "labels": ownership_labels(LINEAGE, address)})
            records.append(RecordedResource(address, "hcloud_server", str(made["server"]["id"]),
                                            {"name": f"m{i:04d}", "image": "ubuntu-24.04"}))
        provider = provider_for(emu, scale)
        started = time.monotonic()
        answer = asyncio.run(provider.refresh(RefreshRequest(tuple(records), ())))
        wall = time.monotonic() - started
        ok_found = len(answer.found) == n and not answer.gone
        total = show(f"refresh of {n} recorded servers", emu.request_counts,
                     f"(goal <= 22; {len(answer.found)} found, {wall:.2f} s wall)")
        return ok_found and total <= 22


def create_bench(n: int, scale: float, action_seconds: float) -> bool:
    with start_emulator(time_scale=scale, token="bench",
                        durations={"create_server": action_seconds, "start_server": 0.0,
                                   "delete_server": action_seconds}) as emu:
        provider = provider_for(emu, scale)
        config = {"server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1"}

        async def create_all() -> list[Any]:
            return list(await asyncio.gather(*(provider.apply(ApplyRequest(
                f"hcloud_server.s[{i}]", "hcloud_server", Action.CREATE, {**config, "name": f"s{i:02d}"}, None),
                _Journal()) for i in range(n))))

        started = time.monotonic()
        results = asyncio.run(create_all())
        wall = time.monotonic() - started
        running = sum(1 for s in emu.servers() if s["status"] == "running")
        total = show(f"create of {n} servers with {action_seconds:.0f} s actions (emulated)", emu.request_counts,
                     f"= {sum(emu.request_counts.values()) / n:.2f} per server (goal <= 8; {running} running, "
                     f"{wall:.2f} s wall = {wall * scale:.0f} s emulated)")
        emu.reset_counts()

        async def delete_all() -> None:
            await asyncio.gather(*(provider.apply(ApplyRequest(
                f"hcloud_server.s[{i}]", "hcloud_server", Action.DELETE, dict(r.attributes),
                RecordedResource(f"hcloud_server.s[{i}]", "hcloud_server", r.id, r.attributes)), _Journal())
                for i, r in enumerate(results)))
            await provider.close()

        asyncio.run(delete_all())
        show(f"delete of {n} servers", emu.request_counts, f"= {sum(emu.request_counts.values()) / n:.2f} per server")
        return running == n and total / n <= 8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=1000, help="recorded servers to refresh")
    parser.add_argument("--creates", type=int, default=20, help="servers to create at once")
    parser.add_argument("--action-seconds", type=float, default=30.0, help="emulated duration of an action")
    parser.add_argument("--scale", type=float, default=100.0, help="emulated seconds per real second")
    args = parser.parse_args()
    ok = refresh_bench(args.servers, args.scale)
    print()
    ok = create_bench(args.creates, args.scale, args.action_seconds) and ok
    print()
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
