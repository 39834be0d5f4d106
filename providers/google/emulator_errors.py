"""The Compute Engine emulator's error answers: `ApiError` (an HTTP status and the API's JSON `error`
object, with its reason and details), the two shapes most 4xx take (`not_found`, `invalid`), and the
resource-name helper every handler uses to read a URL or a partial path."""

from __future__ import annotations

from typing import Any

HTTP_STATUS_TEXT = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
                    412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class ApiError(Exception):
    """An error answer of the API: HTTP status plus the JSON `error` object."""

    def __init__(self, status: int, message: str, reason: str, *, domain: str = "global",
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.domain = domain
        self.details = details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message,
                                 "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}]}
        if self.status in HTTP_STATUS_TEXT:
            error["status"] = HTTP_STATUS_TEXT[self.status]
        if self.details:
            error["details"] = self.details
        return {"error": error}


def not_found(path: str) -> ApiError:
    return ApiError(404, f"The resource '{path}' was not found", "notFound")


def invalid(field: str, value: Any, why: str) -> ApiError:
    return ApiError(400, f"Invalid value for field '{field}': '{value}'. {why}", "invalid")


def last_segment(url: str, collection: str) -> str:
    """`zones/z/machineTypes/n2-standard-2`, a full URL or a bare name -> the name after `collection/`."""
    marker = f"{collection}/"
    return url.rsplit(marker, 1)[1] if marker in url else url.rsplit("/", 1)[-1]
