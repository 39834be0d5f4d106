"""The one error root of reconciler and its subclasses; each carries the evidence the CLI prints as one line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SourcePos:
    """A place in a configuration file (1-based line)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class ReconcilerError(Exception):
    """Root of every error reconciler reports to a user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """One short line per problem, for the CLI."""
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return [text]


class ConfigError(ReconcilerError):
    """A problem in the user's configuration, with the file and line where it is."""

    def __init__(self, message: str, pos: SourcePos | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pos = pos

    def lines(self) -> list[str]:
        where = f"{self.pos}: " if self.pos else ""
        return [where + line for line in super().lines()]


class ConfigErrors(ConfigError):
    """Several configuration problems found in one pass; printed one per line."""

    errors: list[ConfigError]

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        unique: dict[tuple[str, ...], ConfigError] = {}
        for err in errors:
            for one in err.errors if isinstance(err, ConfigErrors) else [err]:
                unique.setdefault(tuple(one.lines()), one)
        found: list[ConfigError] = list(unique.values())
        super().__init__(found[0].message if found else "configuration errors", found[0].pos if found else None)
        self.errors = found

    def lines(self) -> list[str]:
        return [line for err in self.errors for line in err.lines()]


class VariableError(ConfigError):
    """A bad `--var`, `--var-file` or `TF_VAR_` value, or a failed `validation` block."""


class GraphCycleError(ConfigError):
    """The dependency graph has a cycle; the message names it."""


class StateError(ReconcilerError):
    """State could not be read, written or trusted."""


class StateLockedError(StateError):
    """Another process holds the state lock."""


class StateConflictError(StateError):
    """A state write was refused: the stored serial or lineage moved, or this process lost the lock."""


class StalePlanError(StateError):
    """A saved plan no longer matches the state it was made against."""


class PlanFileError(ReconcilerError):
    """A saved plan file is missing, corrupt or of another format."""


class ProviderError(ReconcilerError):
    """A provider call failed; `retryable` says whether waiting might help."""

    def __init__(self, message: str, *, hint: str | None = None, retryable: bool = False,
                 code: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable
        self.code = code


class NotAvailableError(ProviderError):
    """The operation is not available for this resource type (yet)."""


class CommandError(ReconcilerError):
    """A local or remote command failed: carries the command, its exit code and stderr."""

    def __init__(self, message: str, *, argv: Sequence[str] = (), exit_code: int | None = None,
                 stderr: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.argv = list(argv)
        self.exit_code = exit_code
        self.stderr = stderr


class HostKeyError(ReconcilerError):
    """A host answered with a key other than the pinned one."""


class UserAbort(ReconcilerError):
    """The user declined or interrupted."""
