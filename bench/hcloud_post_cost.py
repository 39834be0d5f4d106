"""What one `POST /servers` costs this process's CPU, layer by layer, against the emulator (one thread, one at a time).

The apply of N servers cannot end before its last create is answered, and every create passes through the official
`hcloud` client, requests, urllib3 and http.client in this one Python process: N times the first figure is CPU the
apply spends before its last create can start, whatever the concurrency. bench/apply_scale.py prints the same cost
as measured inside a real apply (threads, event loop and state writes included).

    python bench/hcloud_post_cost.py             # 200 creates a layer, best of 5 rounds
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from providers.hcloud.api import HcloudApi  # noqa: E402
from providers.hcloud.settings import HcloudSettings  # noqa: E402


def server_body(name: str, labels: dict[str, str]) -> dict[str, Any]:
    """What the Hetzner provider hands `HcloudApi.create_server` for a plain cx23 server."""
    return {"name": name, "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1", "ssh_keys": [],
            "firewall_ids": [], "user_data": None, "labels": labels,
            "public_net": {"ipv4_enabled": True, "ipv6_enabled": True}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=200, help="creates a round and layer")
    args = parser.parse_args()
    knobs = {"durations": {"create_server": 3.0, "start_server": 0.0}}
    emu = subprocess.Popen([sys.executable, "-m", "providers.hcloud.emulator", "--knobs", json.dumps(knobs)],
                           cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert emu.stdout is not None
        endpoint = json.loads(emu.stdout.readline())["endpoint"]
        api = HcloudApi(HcloudSettings("bench", endpoint))
        client = api.client()
        names = count()
        host, port = endpoint.split("//", 1)[1].split("/", 1)[0].split(":")
        conn = http.client.HTTPConnection(host, int(port))

        def config() -> dict[str, Any]:
            return server_body(f"p{next(names)}", {"bench": "post-cost"})

        def wire() -> dict[str, Any]:
            return {"name": f"p{next(names)}", "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1",
                    "labels": {"bench": "post-cost"}, "start_after_create": True,
                    "public_net": {"enable_ipv4": True, "enable_ipv6": True}}

        def raw() -> None:
            conn.request("POST", "/v1/servers", body=json.dumps(wire()),
                         headers={"Authorization": "Bearer bench", "Content-Type": "application/json"})
            json.loads(conn.getresponse().read())

        from hcloud.images import Image
        from hcloud.locations import Location
        from hcloud.server_types import ServerType
        from hcloud.servers import ServerCreatePublicNetwork

        def typed() -> object:  # what the provider called before: the SDK's typed create and typed answer
            return client.servers.create(name=f"p{next(names)}", server_type=ServerType(name="cx23"),
                                         image=Image(name="ubuntu-24.04"), location=Location(name="fsn1"),
                                         labels={"bench": "post-cost"},
                                         public_net=ServerCreatePublicNetwork(enable_ipv4=True, enable_ipv6=True))

        layers: dict[str, Callable[[], object]] = {
            "provider create_server (Client.request, plain views)": lambda: api.create_server("bench", config()),
            "hcloud ServersClient.create (typed models)": typed,
            "hcloud Client.request (no typed models)": lambda: client.request("POST", "/servers", json=wire()),
            "http.client alone (no requests, no urllib3)": raw,
        }
        print(f"CPU of this process per POST /servers, best of 5 rounds of {args.creates} (one at a time):")
        cost: dict[str, float] = {name: float("inf") for name in layers}
        for call in layers.values():
            call()
        for _ in range(5):  # the layers take turns, so a busy moment of the machine does not favour one
            for name, call in layers.items():
                started = time.process_time()
                for _ in range(args.creates):
                    call()
                cost[name] = min(cost[name], (time.process_time() - started) / args.creates)
        for name in layers:
            print(f"  {name:55s} {cost[name] * 1000:6.2f} ms")
        first = next(iter(cost.values()))
        print(f"  {args.creates} creates through the provider: {first * args.creates:.2f} s of CPU before the last "
              f"one is answered ({first * args.creates / 3.0:.3f} of a 3 s critical path)")
        return 0
    finally:
        emu.terminate()
        emu.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
