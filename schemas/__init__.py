"""JSON Schemas for every configuration block reconciler accepts, shipped in the wheel."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """The schema `name` (e.g. "resources/hcloud_server", "provider_hcloud")."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
