"""The token bucket that paces requests from the API's RateLimit headers, and the adapter's give-up path."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import ProviderConfig, RefreshRequest
from providers.hcloud import create_provider
from providers.hcloud.emulator import Emulator
from providers.hcloud.transport import TokenBucket
from reconciler.errors import ProviderError

from .conftest import make_provider, run


class Clock:
    def __init__(self) -> None:
        self.mono = 0.0
        self.wall = 1_000_000.0

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def test_bucket_follows_the_headers() -> None:
    clock = Clock()
    bucket = TokenBucket(clock=lambda: clock.mono, wall=lambda: clock.wall)
    assert bucket.reserve() == 0.0  # 3600 assumed until the API says otherwise
    bucket.observe({"RateLimit-Limit": "10", "RateLimit-Remaining": "2", "RateLimit-Reset": str(clock.wall + 16)})
    assert bucket.capacity == 10 and bucket.tokens == 2 and bucket.rate == pytest.approx(0.5)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(2.0)  # in debt by one: one token at 0.5/s
    assert bucket.reserve() == pytest.approx(4.0)  # the next one queues behind it
    clock.advance(4.0)
    assert bucket.reserve() == pytest.approx(2.0)


def test_bucket_never_believes_more_than_the_api_and_drains_on_429() -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=100, rate=1.0, clock=lambda: clock.mono, wall=lambda: clock.wall)
    bucket.observe({"RateLimit-Limit": "100", "RateLimit-Remaining": "100", "RateLimit-Reset": str(clock.wall)})
    assert bucket.tokens == 100 and bucket.rate == 1.0
    bucket.observe({"RateLimit-Limit": "100", "RateLimit-Remaining": "oops"})  # ignored, not fatal
    bucket.drain()
    assert bucket.reserve() == pytest.approx(1.0)


def test_endless_5xx_gives_up_with_a_retryable_error(emulator: Emulator) -> None:
    emulator.set_knobs(error_rate=1.0)
    provider = make_provider(emulator)
    with pytest.raises(ProviderError) as err:
        run(provider.refresh(RefreshRequest((), (("hcloud_server.a", "hcloud_server"),))))
    assert err.value.retryable and "kept failing" in err.value.message
    assert "again later" in (err.value.hint or "")
    assert emulator.request_counts["GET /servers"] == 9  # the first try and 8 retries, then no more


def test_unreachable_endpoint_gives_up() -> None:
    settings = {"token": "t", "endpoint": "http://127.0.0.1:9/v1", "poll_interval": 0.0005}  # nothing listens
    provider = create_provider(ProviderConfig("hcloud", settings, "lineage", Path(".")))
    with pytest.raises(ProviderError) as err:
        run(provider.refresh(RefreshRequest((), (("hcloud_server.a", "hcloud_server"),))))
    assert err.value.retryable and "no answer" in err.value.message


def test_the_environment_s_proxy_and_ca_bundle_are_read_once_when_the_client_is_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """requests would read them on every request (`trust_env`); the client reads them once, so a proxy or a
    CA bundle still applies, and one set later (or a ~/.netrc entry) does not change the running client."""
    from providers.hcloud.api import HcloudApi
    from providers.hcloud.settings import HcloudSettings

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = HcloudApi(HcloudSettings("token", "https://api.hetzner.cloud/v1")).client()._client._session
    assert session.trust_env is False
    assert session.proxies.get("https") == "http://proxy.invalid:3128"
    assert session.verify == "/etc/ssl/certs/ca-certificates.crt"

    monkeypatch.setenv("NO_PROXY", "api.hetzner.cloud")
    session = HcloudApi(HcloudSettings("token", "https://api.hetzner.cloud/v1")).client()._client._session
    assert "https" not in session.proxies  # the endpoint bypasses the proxy
