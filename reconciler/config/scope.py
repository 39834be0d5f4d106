"""The names an expression can see: var, local, path, count, each and the resources planned so far."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.config.blockspec import RESOURCE_TYPES
from reconciler.errors import ConfigError, SourcePos

_NO_EACH = object()


def instance_address(type_: str, name: str, key: str | int | None) -> str:
    """`TYPE.NAME`, `TYPE.NAME[0]` or `TYPE.NAME["key"]`, as Terraform spells instance addresses."""
    if key is None:
        return f"{type_}.{name}"
    if isinstance(key, int):
        return f"{type_}.{name}[{key}]"
    return f"{type_}.{name}[{json.dumps(key)}]"


def split_address(address: str) -> tuple[str, str | int | None]:
    """`TYPE.NAME[...]` -> (`TYPE.NAME`, key)."""
    if not address.endswith("]"):
        return address, None
    base, _, rest = address.partition("[")
    inner = rest[:-1]
    return base, (json.loads(inner) if inner.startswith('"') else int(inner))


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@functools.lru_cache(maxsize=65536)
def machine_name(address: str) -> str:
    """The name of the machine at a `nixos_machine` address, used by the inventory, vars and known_hosts:
    `nixos_machine.cinnabar` -> cinnabar; `nixos_machine.web["galena"]` -> galena (the for_each key);
    `nixos_machine.node[2]` -> node-2. Characters unsafe in file names become "-"."""
    base, key = split_address(address)
    name = base.rsplit(".", 1)[-1]
    if key is None:
        return name
    text = key if isinstance(key, str) else f"{name}-{key}"
    return _UNSAFE_NAME.sub("-", text).strip("-") or name


class ConfigScope:
    """A scope for evaluator.evaluate. `resources[type][name]` holds what a reference to TYPE.NAME yields."""

    def __init__(self, base_dir: Path, variables: Mapping[str, Any], locals_: Mapping[str, Any],
                 resources: Mapping[str, Mapping[str, Any]], *, count_index: int | None = None,
                 each: tuple[Any, Any] | None = None) -> None:
        self.base_dir = base_dir
        self.variables = variables
        self.locals = locals_
        self.resources = resources
        self.count_index = count_index
        self.each = each

    def child(self, *, count_index: int | None = None, each: tuple[Any, Any] | None = None) -> ConfigScope:
        return ConfigScope(self.base_dir, self.variables, self.locals, self.resources,
                           count_index=count_index, each=each)

    def lookup(self, name: str, pos: SourcePos) -> Any:
        if name == "var":
            return self.variables
        if name == "local":
            return self.locals
        if name == "count":
            if self.count_index is None:
                raise ConfigError('"count.index" can only be used in a resource that sets count', pos)
            return {"index": self.count_index}
        if name == "each":
            if self.each is None:
                raise ConfigError('"each" can only be used in a resource that sets for_each', pos)
            return {"key": self.each[0], "value": self.each[1]}
        if name == "path":
            # as Terraform sees them after -chdir: the root module is ".", the working folder is the
            # configuration's; file functions read relative paths from there
            return {"module": ".", "root": ".", "cwd": str(self.base_dir.resolve())}
        if name in RESOURCE_TYPES:
            return self.resources.get(name, {})
        raise ConfigError(f'unknown name "{name}"', pos)
