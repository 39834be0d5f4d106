"""Pytest fixtures for test hosts; a conftest imports them (`from tests.hosts.fixtures import *`).

`farm` is one HostFarm per test session (hosts are made by the tests that need them, and everything is torn
down at the end); it skips the test with the reason when this machine cannot make hosts, and fails it
instead when RECONCILER_REQUIRE_HOSTS=1 (CI: a skipped host test would hide a broken machine). `offline_nix`
points local nix at no binary cache and no flake registry for the whole session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from reconciler.sandbox.netns import hosts_required
from tests.hosts.farm import NIX_CONF, HostFarm, missing_requirements


def need_hosts() -> None:
    """Skip (or, with RECONCILER_REQUIRE_HOSTS=1, fail) the test when this machine cannot make hosts."""
    reason = missing_requirements()
    if reason is None:
        return
    if hosts_required():
        pytest.fail(f"RECONCILER_REQUIRE_HOSTS is set, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def offline_nix() -> Iterator[None]:
    old = os.environ.get("NIX_CONFIG")
    os.environ["NIX_CONFIG"] = NIX_CONF
    yield
    if old is None:
        os.environ.pop("NIX_CONFIG", None)
    else:
        os.environ["NIX_CONFIG"] = old


@pytest.fixture(scope="session")
def farm(offline_nix: None) -> Iterator[HostFarm]:
    need_hosts()
    with HostFarm() as made:
        yield made


__all__ = ["farm", "need_hosts", "offline_nix"]
