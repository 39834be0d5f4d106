"""Hooks keep the terminal out of the engine: the engine reports, a UI (or a test) listens."""

from __future__ import annotations

from typing import Protocol

from reconciler.actions import Action


class Hooks(Protocol):
    def pre_step(self, address: str, action: Action) -> None: ...

    def on_phase(self, address: str, phase: str) -> None: ...

    def post_step(self, address: str, action: Action, error: BaseException | None, seconds: float) -> None: ...

    def on_skip(self, address: str, root_cause: str) -> None: ...


class NoHooks:
    def pre_step(self, address: str, action: Action) -> None:
        pass

    def on_phase(self, address: str, phase: str) -> None:
        pass

    def post_step(self, address: str, action: Action, error: BaseException | None, seconds: float) -> None:
        pass

    def on_skip(self, address: str, root_cause: str) -> None:
        pass
