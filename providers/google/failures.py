"""What a Compute Engine failure means for the provider, whether it came as an HTTP error or inside a
finished operation: a capacity stockout (try the next zone), an exceeded quota (fail at once, naming it),
a rate limit or a server error (retry with backoff), or anything else (fail with the API's message).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.errors import ProviderError

STOCKOUT_CODES = ("ZONE_RESOURCE_POOL_EXHAUSTED", "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS")
RATE_LIMIT_REASONS = ("rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED")
QUOTA_RE = re.compile(r"Quota '([A-Z0-9_]+)' exceeded")
QUOTA_HINT = ("raise the quota at https://console.cloud.google.com/iam-admin/quotas (metric {metric}), "
              "or ask for fewer or smaller instances or GPUs")


class Kind(Enum):
    STOCKOUT = "stockout"
    QUOTA = "quota"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    NOT_READY = "not_ready"  # resourceNotReady: another operation on the instance is still running
    CONFLICT = "conflict"
    PRECONDITION = "precondition"
    OTHER = "other"

    @property
    def retryable(self) -> bool:
        return self in (Kind.RATE_LIMIT, Kind.SERVER, Kind.NOT_READY)


@dataclass(frozen=True)
class Failure:
    kind: Kind
    code: str  # the API's reason or operation error code
    message: str
    quota: str | None = None  # the quota metric, for Kind.QUOTA


class CallFailed(ProviderError):
    """A Compute Engine call that failed (after any retries); `failure` says what kind of failure."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.code}: {failure.message}", code=failure.code, retryable=failure.kind.retryable)
        self.failure = failure


def _reasons(exc: Any) -> list[str]:
    out = [str(e.get("reason", "")) for e in (getattr(exc, "errors", None) or []) if isinstance(e, Mapping)]
    if getattr(exc, "reason", None):
        out.append(str(exc.reason))
    return out


def _quota_metric(message: str, details: Any = None) -> str | None:
    m = QUOTA_RE.search(message)
    if m:
        return m.group(1)
    for detail in details or []:
        info = detail.get("quotaInfo") if isinstance(detail, Mapping) else None
        if info and info.get("metricName"):
            return str(info["metricName"]).rsplit("/", 1)[-1].upper()
    return None


def from_exception(exc: Any) -> Failure:
    """Classify a google.api_core GoogleAPICallError by its HTTP status and reasons."""
    reasons = _reasons(exc)
    message = str(getattr(exc, "message", exc))
    status = getattr(exc, "code", None)
    status = status if isinstance(status, int) else 0
    code = reasons[0] if reasons else str(status)
    if any(r in STOCKOUT_CODES or r == "resource_availability" for r in reasons) or \
            any(c in message for c in STOCKOUT_CODES) or "does not have enough resources available" in message:
        return Failure(Kind.STOCKOUT, STOCKOUT_CODES[0], message)
    if "quotaExceeded" in reasons or "QUOTA_EXCEEDED" in reasons or QUOTA_RE.search(message):
        return Failure(Kind.QUOTA, "QUOTA_EXCEEDED", message, _quota_metric(message))
    if status == 429 or any(r in RATE_LIMIT_REASONS for r in reasons):
        return Failure(Kind.RATE_LIMIT, code, message)
    if "resourceNotReady" in reasons:
        return Failure(Kind.NOT_READY, "resourceNotReady", message)
    kind = {403: Kind.FORBIDDEN, 404: Kind.NOT_FOUND, 409: Kind.CONFLICT, 412: Kind.PRECONDITION}.get(status)
    if kind is None:
        kind = Kind.SERVER if status >= 500 else Kind.OTHER
    return Failure(kind, code, message)


def from_operation(op: Mapping[str, Any]) -> Failure | None:
    """The failure a finished operation reports, or None when it succeeded."""
    errors = ((op.get("error") or {}).get("errors")) or []
    if not errors:
        return None
    first = errors[0]
    code = str(first.get("code", ""))
    message = "; ".join(str(e.get("message", e.get("code", ""))) for e in errors)
    if any(str(e.get("code")) in STOCKOUT_CODES for e in errors):
        return Failure(Kind.STOCKOUT, STOCKOUT_CODES[0], message)
    quota = next((e for e in errors if e.get("code") == "QUOTA_EXCEEDED"), None)
    if quota is not None:
        return Failure(Kind.QUOTA, "QUOTA_EXCEEDED", str(quota.get("message", "")),
                       _quota_metric(str(quota.get("message", "")), quota.get("errorDetails")))
    status = int(op.get("httpErrorStatusCode") or 0)
    if status == 429 or code in RATE_LIMIT_REASONS:
        return Failure(Kind.RATE_LIMIT, code, message)
    if status >= 500:
        return Failure(Kind.SERVER, code, message)
    return Failure(Kind.OTHER, code, message)


def as_provider_error(failure: Failure, doing: str) -> ProviderError:
    """A ProviderError for the user: what was being done, the API's words, and what to do about it."""
    if failure.kind is Kind.QUOTA:
        metric = failure.quota or "unknown"
        return ProviderError(f"{doing}: quota {metric} exceeded ({failure.message})", code="QUOTA_EXCEEDED",
                             hint=QUOTA_HINT.format(metric=metric))
    if failure.kind.retryable:
        return ProviderError(f"{doing}: the Compute Engine API kept failing ({failure.code}: {failure.message})",
                             code=failure.code, retryable=True, hint="try again later")
    return ProviderError(f"{doing}: {failure.message}", code=failure.code)
