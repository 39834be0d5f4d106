"""The google provider: `google_compute_instance` on Compute Engine through `google-cloud-compute` (REST),
plus a local emulator of the API (providers.google.emulator) for tests and `reconciler sandbox`."""

from __future__ import annotations

from typing import Any

from providers.base import Provider, ProviderConfig
from providers.google.provider import GoogleProvider
from providers.google.retry import RetryPolicy

__all__ = ["GoogleProvider", "RetryPolicy", "create_provider"]


def create_provider(config: ProviderConfig, **options: Any) -> Provider:
    """Build the provider; nothing touches the network or reads credentials until the first call.

    `options` (for tests and tools): retry (RetryPolicy), operation_timeout (seconds), max_parallel."""
    return GoogleProvider(config, **options)
