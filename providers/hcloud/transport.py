"""Pacing and retries below the `hcloud` client: a requests transport adapter that waits for a token of a
bucket driven by the API's `RateLimit-Limit/Remaining/Reset` headers before each request, and retries 429,
5xx, `conflict`, `maintenance` and connection failures with jittered exponential backoff. (`locked` is left to
the provider, which waits for the server's running actions instead of guessing how long they take.)

When it gives up it raises `GaveUp` (a requests exception that is not a timeout), so the client's own
retry loop, which sleeps real seconds, never runs on top of ours.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from providers.hcloud.settings import DEFAULT_BUDGET

POOL_SIZE = 128  # connections kept open: one per thread that may send at once (the apply's step threads)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_CODES = frozenset({"rate_limit_exceeded", "conflict", "timeout", "server_error", "unavailable",
                         "service_error", "maintenance", "robot_unavailable"})


class GaveUp(requests.exceptions.RequestException):
    """Retries are exhausted; carries the last HTTP status and API error code, if there was an answer."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TokenBucket:
    """A client-side copy of the project's request budget (3600 per hour, one regained per second, until
    the API's headers say otherwise). `reserve` takes a token, going into debt, and says how long to wait."""

    def __init__(self, capacity: float = DEFAULT_BUDGET, rate: float = 1.0, *,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.capacity = capacity
        self.tokens = capacity
        self.rate = rate
        self._clock = clock
        self._wall = wall
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._at) * self.rate)
        self._at = now

    def reserve(self) -> float:
        with self._lock:
            self._refill()
            self.tokens -= 1.0
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def observe(self, headers: Mapping[str, str]) -> None:
        """Believe the API: never hold more tokens than it says remain, and learn its refill rate."""
        try:
            limit = float(headers["RateLimit-Limit"])
            remaining = float(headers["RateLimit-Remaining"])
            reset = float(headers["RateLimit-Reset"])
        except (KeyError, ValueError):
            return
        with self._lock:
            self._refill()
            self.capacity = max(limit, 1.0)
            until = reset - self._wall()
            if remaining < limit and until > 0:
                self.rate = max((limit - remaining) / until, limit / 36000.0)
            self.tokens = min(self.tokens, remaining)

    def drain(self) -> None:
        """A 429 arrived: whatever we believed, nothing is left."""
        with self._lock:
            self._refill()
            self.tokens = min(self.tokens, 0.0)


class PacedAdapter(HTTPAdapter):
    """The transport the provider's hcloud client sends through."""

    def __init__(self, bucket: TokenBucket, *, base: float = 1.0, cap: float = 30.0, max_retries: int = 8,
                 max_429: int = 30, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        super().__init__(pool_connections=2, pool_maxsize=POOL_SIZE)
        self.bucket = bucket
        self.base = base
        self.cap = cap
        self.retries = max_retries
        self.max_429 = max_429
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.stats: dict[str, int] = {"sent": 0, "retried": 0, "throttled": 0}

    def backoff(self, attempt: int) -> float:
        interval = min(self.cap, self.base * 2 ** attempt)
        return self._rng.uniform(interval / 2, interval)

    @staticmethod
    def _code(response: requests.Response) -> str | None:
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        return error.get("code") if isinstance(error, dict) else None

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        attempt = 0  # failures (no answer, 5xx, retryable codes), against `retries`
        limited = 0  # 429s, against `max_429`: a storm of them must not use up the budget for real failures
        while True:
            wait = self.bucket.reserve()
            if wait > 0:
                self.stats["throttled"] += 1
                self._sleep(wait)
            self.stats["sent"] += 1
            try:
                response = super().send(request, *args, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as e:
                if attempt >= self.retries:
                    raise GaveUp(f"no answer from {request.url} after {attempt + 1} attempts: {e}") from e
                self._sleep(self.backoff(attempt))
                attempt += 1
                self.stats["retried"] += 1
                continue
            self.bucket.observe(response.headers)
            code = self._code(response) if response.status_code >= 400 else None
            if response.status_code not in RETRY_STATUSES and code not in RETRY_CODES:
                return response
            is_429 = response.status_code == 429
            count, limit = (limited, self.max_429) if is_429 else (attempt, self.retries)
            if count >= limit:
                raise GaveUp(f"the API answered {response.status_code} ({code or response.reason}) "
                             f"{count + 1} times", response.status_code, code)
            delay = self.backoff(count)
            if is_429 and _remaining(response.headers) < 1:
                self.bucket.drain()  # the budget is spent: the bucket's wait for a new token does the rest
                delay = min(delay, self.backoff(0))
            response.close()
            self._sleep(delay)
            if is_429:
                limited += 1
            else:
                attempt += 1
            self.stats["retried"] += 1


def _remaining(headers: Mapping[str, str]) -> float:
    try:
        return float(headers["RateLimit-Remaining"])
    except (KeyError, ValueError):
        return 0.0
