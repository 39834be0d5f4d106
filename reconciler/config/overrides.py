"""Override files, merged as Terraform merges them: `override.tf`, `override.tf.json` and every file whose name
ends in `_override.tf` or `_override.tf.json` are set aside, and then, file by file in name order, each of their
top-level blocks is merged into the block of the normal files with the same type and labels:

- each attribute of the override block replaces the attribute of that name (or is added);
- each nested block type of the override block replaces every nested block of that type;
- `locals`: each local value replaces the local of that name, in whichever `locals` block it is.

An override block without a block to merge into is an error, as in Terraform ("Missing base ..."). This is how
`reconciler sandbox up` points the providers at itself (`sandbox_override.tf`) without touching the user's
provider blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.config import syntax as s
from reconciler.errors import ConfigError, ConfigErrors


def is_override(name: str) -> bool:
    base = name.removesuffix(".json").removesuffix(".tf")
    return base == "override" or base.endswith("_override")


def _merge_body(base: s.Body, over: s.Body) -> s.Body:
    names = {a.name for a in over.attributes}
    attributes = tuple(a for a in base.attributes if a.name not in names) + over.attributes
    replaced = {b.type for b in over.blocks}
    blocks = tuple(b for b in base.blocks if b.type not in replaced) + over.blocks
    return replace(base, attributes=attributes, blocks=blocks)


def _merge_locals(files: list[s.SourceFile], block: s.Block, path: str) -> list[s.SourceFile]:
    pending = {a.name: a for a in block.body.attributes}
    out = []
    for f in files:
        blocks = []
        for b in f.body.blocks:
            if b.type == "locals" and any(a.name in pending for a in b.body.attributes):
                attrs = tuple(pending.pop(a.name) if a.name in pending else a for a in b.body.attributes)
                b = replace(b, body=replace(b.body, attributes=attrs))
            blocks.append(b)
        out.append(replace(f, body=replace(f.body, blocks=tuple(blocks))))
    if pending:
        first = next(iter(pending.values()))
        raise ConfigError(f"{path}: local value {first.name!r} in an override file has no base declaration",
                          first.pos, hint="declare it in a locals block of a normal file")
    return out


def _merge_block(files: list[s.SourceFile], block: s.Block, path: str) -> list[s.SourceFile]:
    if block.type == "locals":
        return _merge_locals(files, block, path)
    out, found = [], False
    for f in files:
        blocks = []
        for b in f.body.blocks:
            if b.type == block.type and b.labels == block.labels:
                b = replace(b, body=_merge_body(b.body, block.body))
                found = True
            blocks.append(b)
        out.append(replace(f, body=replace(f.body, blocks=tuple(blocks))))
    if not found:
        what = " ".join([block.type, *(f'"{label}"' for label in block.labels)])
        raise ConfigError(f"{what} in the override file {path} has no block to override", block.pos,
                          hint="an override file changes blocks that a normal .tf file declares")
    return out


def merge_overrides(files: Sequence[s.SourceFile]) -> list[s.SourceFile]:
    """The normal files, with every override file's blocks merged into them (override files in name order)."""
    normal = [f for f in files if not is_override(f.path.rsplit("/", 1)[-1])]
    overrides = sorted((f for f in files if is_override(f.path.rsplit("/", 1)[-1])), key=lambda f: f.path)
    errors: list[ConfigError] = []
    for over in overrides:
        for block in over.body.blocks:
            try:
                normal = _merge_block(normal, block, over.path)
            except ConfigError as e:
                errors.append(e)
    if errors:
        raise ConfigErrors(errors)
    return normal
