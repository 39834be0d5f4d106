"""Why a plan chose an action; display only, the action alone decides what happens."""

from __future__ import annotations

from enum import Enum


class Reason(Enum):
    NONE = ""
    NEW = "not in state"
    NO_CONFIG = "no longer in the configuration"
    COUNT_ZERO = "removed by count/for_each"
    DISABLED = "enabled = false: toggled off; configuration, vars and host key are kept"
    DORMANT_DISABLED = "enabled = false"
    DORMANT_UPSTREAM = "depends on a disabled resource"
    REPLACE_ATTRIBUTE = "an attribute that cannot change in place changed"
    REPLACE_GONE = "deleted outside reconciler"
    REPLACE_CREATE_BEFORE_DESTROY = "create_before_destroy"
    UPDATE_ATTRIBUTE = "attributes change in place"
    DESTROY_MODE = "plan -destroy"
    INSTALL_NEW_HOST = "host is new"
    INSTALL_HOST_RECREATED = "its VM is (re)created"
    INSTALL_RESUME = "a previous install stopped before it finished"
    NIXOS_CHANGED = "the system closure changed"
    NIXOS_DRIFT = "the running system differs from the recorded one"
    HOST_KEY_CHANGED = "its declared host_key is not the pinned one"
    INVENTORY_CHANGED = "its inventory.json entry changes; the new system is known after apply"
    TAINTED = "a previous apply failed midway"
    RESUME_CREATE = "a previous apply stopped before this create finished; it is resumed, not repeated"
