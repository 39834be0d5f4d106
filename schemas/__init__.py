"""JSON Schemas for every configuration block reconciler accepts, shipped in the wheel."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent  # the schemas are files of this package (package data in the wheel)


@cache
def load(name: str) -> dict[str, Any]:
    """The schema `name` (e.g. "resources/hcloud_server", "provider_hcloud")."""
    text = (HERE / f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
