"""The `provider "hcloud" { token, endpoint, poll_interval, poll_function }` settings, with HCLOUD_TOKEN as the token's
fallback, and the timings derived from `poll_interval` (the first action poll; the default 0.5 s gives the
documented 0.5 s doubling to 10 s schedule, a smaller value scales every wait down alike, for tests).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1"
DEFAULT_POLL = 0.5
DEFAULT_BUDGET = 3600.0  # requests an hour, one regained a second: Hetzner's default until its headers say


@dataclass(frozen=True)
class HcloudSettings:
    """The `provider "hcloud"` block's settings."""
    token: str | None
    endpoint: str = DEFAULT_ENDPOINT
    poll_interval: float = DEFAULT_POLL
    poll_function: str = "exponential"  # or "constant", as the Terraform provider's poll_function

    @property
    def scale(self) -> float:
        """How much faster than real Hetzner timings this run waits (1.0 by default)."""
        return self.poll_interval / DEFAULT_POLL

    @property
    def poll_cap(self) -> float:
        if self.poll_function == "constant":
            return self.poll_interval
        return 20 * self.poll_interval  # 10 s at the default

    @property
    def retry_base(self) -> float:
        return 1.0 * self.scale

    @property
    def retry_cap(self) -> float:
        return 30.0 * self.scale

    @property
    def request_timeout(self) -> float:
        return max(5.0, 60.0 * self.scale)

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any], env: Mapping[str, str] | None = None) -> HcloudSettings:
        env = os.environ if env is None else env
        token = settings.get("token") or env.get("HCLOUD_TOKEN") or None
        endpoint = str(settings.get("endpoint") or env.get("HCLOUD_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        poll = settings.get("poll_interval")  # a Go duration ("500ms"), as the Terraform provider types it
        interval = DEFAULT_POLL
        if poll:
            from reconciler.config.duration import seconds  # decimal: loaded only for those who set it

            interval = seconds(poll)
        return cls(str(token) if token else None, endpoint, interval,
                   str(settings.get("poll_function") or "exponential"))
