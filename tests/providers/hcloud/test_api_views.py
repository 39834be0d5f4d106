"""The create is sent through hcloud's `Client.request` and read without typed models (providers/hcloud/api.py):
the body is the one `ServersClient.create` sends, and the view read from the JSON answer is the view the typed
models give for the same server."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from providers.hcloud.api import HcloudApi, server_view
from providers.hcloud.emulator import start_emulator
from providers.hcloud.settings import HcloudSettings

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin"


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "web", "server_type": "cx23", "image": "debian-12", "location": "fsn1",
                              "ssh_keys": [], "firewall_ids": [], "user_data": None, "labels": {"role": "web"},
                              "public_net": {"ipv4_enabled": True, "ipv6_enabled": True}}
    return {**values, **overrides}


@pytest.mark.parametrize("overrides", [
    {},
    {"ssh_keys": ["admin"], "firewall_ids": ["7"], "user_data": "#cloud-config\n", "location": None},
    {"server_type": "cax11", "public_net": {"ipv4_enabled": False, "ipv6_enabled": True}, "labels": {}},
])
def test_created_view_is_the_typed_view_and_the_body_is_the_sdks(overrides: dict[str, Any]) -> None:
    """The emulator refuses unknown fields and malformed references (emu_ops), so an accepted create is a body
    the API takes; what it made is read back through the typed models and compared."""
    with start_emulator(time_scale=1000.0, token="t", firewalls=[7]) as emu:
        api = HcloudApi(HcloudSettings("t", emu.endpoint))
        if "admin" in overrides.get("ssh_keys", []):
            api.create_ssh_key("key", "admin", KEY, {})
        created = api.create_server("create", body(**overrides))
        typed = api.call("read", lambda c: server_view(c.servers.get_by_id(created.server.id)))
        assert created.actions and all(isinstance(i, int) for i in created.actions)
        # the answer to the POST is the server before it runs; the rest is the same server
        assert replace(created.server, status=typed.status) == typed
        assert typed.labels == body(**overrides)["labels"]
        assert typed.firewall_ids == tuple(int(f) for f in body(**overrides)["firewall_ids"])
        assert (typed.ipv4 is None) == (not body(**overrides)["public_net"]["ipv4_enabled"])
        assert typed.location == (body(**overrides)["location"] or typed.location)
        assert typed.architecture == ("arm" if overrides.get("server_type") == "cax11" else "x86")
        api.close()
