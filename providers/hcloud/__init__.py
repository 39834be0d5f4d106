"""The Hetzner Cloud provider (`hcloud_server`, `hcloud_ssh_key`) and its API emulator.

`create_provider(config)` is the factory the engine uses; `providers.hcloud.emulator` holds the emulator.
"""

from __future__ import annotations

from providers.hcloud.provider import HcloudProvider, create_provider

__all__ = ["HcloudProvider", "create_provider"]
