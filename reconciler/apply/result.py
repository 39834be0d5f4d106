"""What an apply's walk did: the steps done, failed, skipped (a dependency failed) and not started (a stop
request). A value of its own, so the library API can name it without importing the walk (asyncio, networkx)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WalkResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, BaseException] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # node -> the failed node it depended on
    not_started: list[str] = field(default_factory=list)  # left out by a stop request

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.not_started
