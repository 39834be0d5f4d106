"""Plain, frozen views of Hetzner Cloud objects: what the provider keeps of the SDK's answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerView:
    id: int
    name: str
    status: str
    server_type: str
    architecture: str
    location: str
    image: str | None  # the image's name, or its id for images without one (snapshots)
    image_id: int | None
    labels: Mapping[str, str]
    ipv4: str | None
    ipv6_net: str | None
    backup_window: str | None
    firewall_ids: tuple[int, ...]
    primary_disk_size: int


@dataclass(frozen=True)
class SshKeyView:
    id: int
    name: str
    public_key: str
    fingerprint: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ActionView:
    id: int
    command: str
    status: str  # running | success | error
    error: str | None = None
    progress: int = 0  # 0-100, as the API reports it


@dataclass(frozen=True)
class Created:
    server: ServerView
    actions: tuple[int, ...]  # the create action and its next actions (start_server)
