"""The emulated project as plain JSON and back, so that `reconciler sandbox down` and `up` bring the same
servers and SSH keys back (same ids, names, addresses, labels). Actions still running are finished first (their
effects applied), as a project left alone for a while would have them; finished actions are not kept."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Any

from providers.hcloud.emu_model import ServerRec, SshKeyRec
from providers.hcloud.emu_world import World


def snapshot(world: World) -> dict[str, Any]:
    with world.lock:
        now = world.now()
        for action in world.actions.values():
            if action.status == "running":
                action.finishes = min(action.finishes, now)
        world.tick()
        ids = [*world.servers, *world.ssh_keys]
        return {"servers": [asdict(s) for s in world.servers.values()],
                "ssh_keys": [asdict(k) for k in world.ssh_keys.values()],
                "next_id": max(ids, default=0) + 1}


def restore(world: World, data: dict[str, Any]) -> None:
    with world.lock:
        world.servers = {int(s["id"]): ServerRec(**s) for s in data.get("servers", [])}
        world.ssh_keys = {int(k["id"]): SshKeyRec(**k) for k in data.get("ssh_keys", [])}
        world._ids = itertools.count(int(data.get("next_id", 1)))
