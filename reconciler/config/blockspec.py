"""Which names are nested blocks (not attributes) and how many labels each block takes.

HCL tells blocks from attributes by syntax; Terraform JSON syntax does not, so the JSON loader needs this
table, exactly as Terraform needs a provider schema to read `*.tf.json`. The model layer uses it too, to
turn nested resource blocks into lists of objects (the shape Terraform state gives them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class BlockSpec:
    """How a block type nests in the JSON syntax: its labels and its known sub-blocks."""
    labels: int = 0
    blocks: Mapping[str, BlockSpec] = field(default_factory=dict)
    # True: the JSON value is {label: body} but the body holds arbitrary attributes (locals-like)
    free_attributes: bool = True


LIFECYCLE = BlockSpec()

RESOURCE_BLOCKS: dict[str, dict[str, BlockSpec]] = {
    "hcloud_server": {"public_net": BlockSpec()},
    "hcloud_ssh_key": {},
    "google_compute_instance": {
        "boot_disk": BlockSpec(blocks={"initialize_params": BlockSpec()}),
        "network_interface": BlockSpec(blocks={"access_config": BlockSpec()}),
        "guest_accelerator": BlockSpec(),
        "scheduling": BlockSpec(),
    },
    "nixos_machine": {"install": BlockSpec(), "health_check": BlockSpec()},
}

RESOURCE_TYPES = frozenset(RESOURCE_BLOCKS)


@cache
def resource_spec(type_: str) -> BlockSpec:
    """The body spec of `resource "TYPE" "NAME"`; unknown types get only `lifecycle` (schema check rejects them)."""
    blocks = dict(RESOURCE_BLOCKS.get(type_, {}))
    blocks["lifecycle"] = LIFECYCLE
    return BlockSpec(labels=2, blocks=blocks)


TOP_LEVEL: dict[str, BlockSpec] = {
    "terraform": BlockSpec(blocks={"backend": BlockSpec(labels=1)}),
    "variable": BlockSpec(labels=1, blocks={"validation": BlockSpec()}),
    "locals": BlockSpec(),
    "provider": BlockSpec(labels=1),
    # "resource" is special: two labels, body spec per type (resource_spec)
    "output": BlockSpec(labels=1),
    "inventory": BlockSpec(blocks={"service": BlockSpec(labels=1, blocks={"role": BlockSpec(labels=1)})}),
    "vars": BlockSpec(labels=1, blocks={"file": BlockSpec(labels=1)}),
    "secrets": BlockSpec(),
}

TOP_LEVEL_NAMES = frozenset([*TOP_LEVEL, "resource"])
