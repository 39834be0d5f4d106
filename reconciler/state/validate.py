"""Check a state document before anything uses it: UTF-8, JSON within the nesting limit, and the shape the
JSON Schema `schemas/state.json` gives. Each problem is one StateError line naming where the state is
(the file or the pg row) and what is wrong, and nothing is written.

The schema is the authority. Checking 10,000 resource entries through jsonschema costs about a second, so
the document and each entry of the plain, common shape are accepted by a quick test (jsonschema is then
never imported), and anything else goes to the schema's own validator, whose first error is the message.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import schemas
from reconciler.config.limits import MAX_NESTING, clip, value_depth_exceeds
from reconciler.errors import StateError
from reconciler.state.document import STATE_VERSION

RESTORE = "restore the .backup file beside it, or fix it by hand"
_ENTRY_KEYS = frozenset(("type", "id", "attributes", "private", "dependencies", "pending"))


@cache
def _validators() -> tuple[Any, Any]:
    import jsonschema

    schema = schemas.load("state")
    cls = jsonschema.validators.validator_for(schema)
    entry = schema["properties"]["resources"]["additionalProperties"]
    top = {**schema, "properties": {**schema["properties"], "resources": {"type": "object"}}}
    return cls(top), cls(entry)


def decode(raw: bytes | str, where: str) -> dict[str, Any]:
    """The state document in `raw`, checked against the schema; StateError (one line) if it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise StateError(f"{where}: state is not UTF-8 text (byte {e.start})", hint=RESTORE) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise StateError(f"{where}: state is not valid JSON (line {e.lineno}: {e.msg})", hint=RESTORE) from None
    except RecursionError:
        raise StateError(f"{where}: state nests too deeply to read", hint=RESTORE) from None
    check(data, where)
    return data


def check(data: Any, where: str) -> None:
    """Raise StateError naming the first way `data` is not a state document."""
    if not _plain_document(data):
        _first_error(_validators()[0], data, where, ())
    for address, res in data.get("resources", {}).items():
        if not _plain_entry(res):
            _first_error(_validators()[1], res, where, ("resources", address))
        if isinstance(res, dict) and value_depth_exceeds(
                [res.get("attributes"), res.get("private"), res.get("pending")], MAX_NESTING + 1):
            raise StateError(f"{where}: resources.{clip(address)} nests more than {MAX_NESTING} levels deep",
                             hint=RESTORE)
    if data.get("version", 0) > STATE_VERSION:
        raise StateError(f"{where}: state version {data['version']} is newer than this reconciler understands",
                         hint="upgrade reconciler")


def _count(value: Any) -> bool:
    """A JSON integer of at least 0 (not a bool, which Python counts as an int)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _plain_document(data: Any) -> bool:
    """The document's own fields in the common shape, which the schema accepts (entries are tested apart)."""
    if not isinstance(data, dict):
        return False
    resources, outputs = data.get("resources", {}), data.get("outputs", {})
    lineage = data.get("lineage")
    return (_count(data.get("version")) and _count(data.get("serial")) and isinstance(lineage, str)
            and 1 <= len(lineage) <= 200 and isinstance(data.get("reconciler_version", ""), str)
            and isinstance(resources, dict) and all(len(address) <= 1000 for address in resources)
            and isinstance(outputs, dict) and all(
                isinstance(o, dict) and "value" in o and isinstance(o.get("sensitive", False), bool)
                for o in outputs.values()))


def _plain_entry(res: Any) -> bool:
    """The common shape, which the schema accepts: tested quickly, without jsonschema."""
    return (isinstance(res, dict) and res.keys() <= _ENTRY_KEYS and isinstance(res.get("type"), str)
            and bool(res["type"]) and (res.get("id") is None or isinstance(res["id"], str))
            and isinstance(res.get("attributes", {}), dict) and isinstance(res.get("private", {}), dict)
            and (res.get("pending") is None or isinstance(res["pending"], dict))
            and isinstance(res.get("dependencies", []), list)
            and all(isinstance(d, str) for d in res.get("dependencies", [])))


def _first_error(validator: Any, value: Any, where: str, prefix: tuple[str, ...]) -> None:
    try:
        from jsonschema.exceptions import best_match

        error = best_match(validator.iter_errors(value))
    except RecursionError:
        raise StateError(f"{where}: state nests too deeply to check", hint=RESTORE) from None
    if error is None:
        return
    path = ".".join(clip(str(p)) for p in (*prefix, *error.absolute_path)) or "the document"
    raise StateError(f"{where}: {path}: {_message(error)}", hint=RESTORE)


def _message(error: Any) -> str:
    """jsonschema's message with the offending value clipped (it may be a megabyte long)."""
    if error.validator == "type":
        return f"{_show(error.instance)} is not of type {' or '.join(_types(error.validator_value))}"
    if error.validator == "required":
        return clip(error.message, 80)
    return f"{_show(error.instance)} fails {error.validator} {clip(error.validator_value)}"


def _show(value: Any) -> str:
    """A value for an error line, without a repr of what may be a deeply nested container."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return clip(repr(value))


def _types(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]

