"""The errors of the NixOS provider, each a subclass of the shared error root carrying its evidence."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import CommandError, ProviderError


class UnreachableError(ProviderError):
    """A host did not answer SSH (refused, timed out, dropped); waiting may help."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, retryable=True, code="unreachable")


class RolledBackError(ProviderError):
    """An update failed (activation, health check, lost SSH) and the machine was switched back."""

    def __init__(self, message: str, *, previous: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, code="rolled_back")
        self.previous = previous


class InstallError(CommandError):
    """A nixos-anywhere phase failed; `phase` names it, the message says what it means."""

    def __init__(self, message: str, *, phase: str, argv: Sequence[str] = (), exit_code: int | None = None,
                 stderr: str = "", hint: str | None = None) -> None:
        super().__init__(message, argv=argv, exit_code=exit_code, stderr=stderr, hint=hint)
        self.phase = phase
