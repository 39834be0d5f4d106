"""Fixtures for the NixOS provider tests: test hosts (tests/hosts) and a private age identity per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.vars import IDENTITY_ENV
from tests.hosts.fixtures import farm, offline_nix

__all__ = ["age_identity", "farm", "offline_nix"]


@pytest.fixture(scope="module", autouse=True)
def age_identity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test module gets its own admin identity (made on first use by the vars store)."""
    path = tmp_path_factory.mktemp("age") / "identity.txt"
    mp = pytest.MonkeyPatch()
    mp.setenv(IDENTITY_ENV, str(path))
    yield path
    mp.undo()
