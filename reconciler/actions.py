"""The actions a plan can take on a resource, with the symbols the plan prints for them."""

from __future__ import annotations

from enum import Enum


class Action(Enum):
    """What happens to one resource instance. Values are the plan-file spelling."""

    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    INSTALL = "install"
    NIXOS_UPDATE = "nixos-update"
    DORMANT = "dormant"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def terraform_actions(self) -> list[str]:
        """`change.actions` as Terraform's JSON plan spells them."""
        return list(_TF_ACTIONS[self])

    @property
    def is_change(self) -> bool:
        return self not in (Action.NOOP, Action.DORMANT)

    @property
    def is_nixos(self) -> bool:
        return self in (Action.INSTALL, Action.NIXOS_UPDATE)


_SYMBOLS = {
    Action.NOOP: " ",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.INSTALL: ">",
    Action.NIXOS_UPDATE: "^",
    Action.DORMANT: "z",
}

_TF_ACTIONS: dict[Action, tuple[str, ...]] = {
    Action.NOOP: ("no-op",),
    Action.CREATE: ("create",),
    Action.UPDATE: ("update",),
    Action.REPLACE: ("delete", "create"),
    Action.DELETE: ("delete",),
    Action.INSTALL: ("no-op",),
    Action.NIXOS_UPDATE: ("no-op",),
    Action.DORMANT: ("no-op",),
}
