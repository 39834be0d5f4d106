"""Turn Hetzner Cloud API failures into `ProviderError`s whose message says what happened and whose hint
says what to do; the API's error code is kept in `.code` so callers can branch on it
(`uniqueness_error` -> adopt, `resource_unavailable` -> next location, `not_found` -> gone).
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import ProviderError

TOKEN_HINT = ('set provider "hcloud" { token = ... } or the HCLOUD_TOKEN environment variable to a Read & Write '
              "API token of the project (Cloud Console: Security > API tokens)")
FALLBACK_CODES = frozenset({"resource_unavailable", "unsupported_location_for_server_type", "placement_error",
                            "no_space_left_in_location"})


def _fields(details: Any) -> str:
    if not isinstance(details, dict):
        return ""
    out = []
    for f in details.get("fields") or []:
        if isinstance(f, dict):
            msgs = "; ".join(str(m) for m in f.get("messages") or [])
            out.append(f"{f.get('name')}: {msgs}" if msgs else str(f.get("name")))
    return ", ".join(out)


def api_error(code: str | int, message: str, details: Any, what: str) -> ProviderError:
    """`what` names the operation, e.g. 'create of hcloud_server.web (server "web")'."""
    code_s = str(code)
    if code_s in ("unauthorized", "401"):
        return ProviderError(f"{what}: Hetzner Cloud refused the API token ({message})", hint=TOKEN_HINT,
                             code="unauthorized")
    if code_s in ("forbidden", "token_readonly", "403"):
        return ProviderError(f"{what}: the API token may not do this ({code_s}: {message})",
                             hint="use a Read & Write token of the project that owns these servers; " + TOKEN_HINT,
                             code=code_s)
    if code_s == "resource_limit_exceeded":
        return ProviderError(f"{what}: the project's resource limit is reached ({message})",
                             hint="ask Hetzner to raise the limit (Cloud Console: project > Limits) or remove "
                                  "servers you no longer need", code=code_s)
    if code_s == "invalid_input":
        fields = _fields(details)
        return ProviderError(f"{what}: Hetzner Cloud rejected the input: {fields or message}",
                             hint="fix these attributes in the configuration", code=code_s)
    if code_s in FALLBACK_CODES:
        return ProviderError(f"{what}: {message}", code=code_s, retryable=True,
                             hint="add fallback locations with locations = [...] or choose another server_type")
    if code_s == "not_found":
        return ProviderError(f"{what}: not found ({message})", code=code_s)
    if code_s == "protected":
        return ProviderError(f"{what}: Hetzner Cloud refuses, the server is protected ({message})",
                             hint="turn off its delete protection (Cloud Console: server > Protection, or "
                                  "`hcloud server disable-protection NAME delete rebuild`), then apply again",
                             code=code_s)
    if code_s in ("invalid_server_type", "server_not_stopped", "locked"):
        return ProviderError(f"{what}: {message} ({code_s})", code=code_s)
    return ProviderError(f"{what}: Hetzner Cloud API error {code_s}: {message}", code=code_s,
                         retryable=code_s in ("rate_limit_exceeded", "conflict", "server_error", "unavailable",
                                              "timeout", "maintenance"))


def gave_up(status: int | None, code: str | None, detail: str, what: str) -> ProviderError:
    return ProviderError(f"{what}: the Hetzner Cloud API kept failing ({detail})",
                         hint="the API is overloaded or unreachable; run the command again later",
                         retryable=True, code=code or (str(status) if status else "unreachable"))
