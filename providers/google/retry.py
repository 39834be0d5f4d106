"""How hard the google provider tries: backoff for rate limits, server errors and dropped connections, a
steady pace while an instance is busy with another operation (`resourceNotReady`), and the HTTP timeouts
of single calls (kept apart from api.py so that importing it loads no SDK)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for rate limits, 5xx and dropped connections."""

    base: float = 1.0  # seconds before the first retry
    cap: float = 32.0
    attempts: int = 8
    not_ready_delay: float = 2.0  # seconds between tries while another operation holds the instance
    not_ready_attempts: int = 60
    status_poll: float = 2.0  # seconds between reads of an instance still PROVISIONING or STAGING
    wait_call_timeout: float = 180.0  # HTTP timeout of one zoneOperations.wait (the API returns within ~2 min)
    call_timeout: float = 60.0
