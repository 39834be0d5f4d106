"""The Terraform functions reconciler refuses are refused by name, in one line that says why."""

from __future__ import annotations

import pytest

from reconciler.config.functions import FUNCTIONS, NOT_SUPPORTED
from reconciler.errors import ConfigError
from tests.config.helpers import ev


@pytest.mark.parametrize("name", sorted(NOT_SUPPORTED))
def test_refused_by_name_with_the_reason(name: str) -> None:
    assert name not in FUNCTIONS
    with pytest.raises(ConfigError) as caught:
        ev(f"{name}()")
    assert caught.value.message == f'function "{name}" is not supported: {NOT_SUPPORTED[name]}'
    assert len(caught.value.lines()) == 1
