"""Values an expression can produce that plain Python has no word for: a value known only after apply."""

from __future__ import annotations

from typing import Any, Final


class _Unknown:
    """A value that will be known only after apply (Terraform's "(known after apply)")."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()

UNKNOWN_JSON_MARK: Final = "(known after apply)"


def is_known(value: Any) -> bool:
    """True when `value` contains no UNKNOWN anywhere inside it."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_known(v) for v in value)
    return True


def strip_unknown(value: Any) -> Any:
    """A copy of `value` without the map entries whose value is UNKNOWN (list elements become None)."""
    if isinstance(value, dict):
        return {k: strip_unknown(v) for k, v in value.items() if v is not UNKNOWN}
    if isinstance(value, (list, tuple)):
        return [None if v is UNKNOWN else strip_unknown(v) for v in value]
    return value


def to_json_value(value: Any, unknown: Any = UNKNOWN_JSON_MARK) -> Any:
    """A copy of `value` fit for JSON, with every UNKNOWN replaced by `unknown`."""
    if value is UNKNOWN:
        return unknown
    if isinstance(value, dict):
        return {k: to_json_value(v, unknown) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, unknown) for v in value]
    return value
