"""Turn loaded syntax (bodies and blocks of every file) into typed declarations, checking their structure.

Nothing is evaluated here except literal-only meta arguments; expressions stay expressions. Structural
mistakes (unknown block types, wrong label counts, duplicates, misplaced meta arguments) are reported with
the file and line, all at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from reconciler.config import syntax as s
from reconciler.config.blockspec import RESOURCE_BLOCKS, TOP_LEVEL_NAMES, resource_spec
from reconciler.config.dynamic import nested_blocks
from reconciler.errors import ConfigError, ConfigErrors, SourcePos
from reconciler.suggest import did_you_mean

META_ATTRIBUTES = frozenset({"count", "for_each", "depends_on", "enabled", "provider"})


@dataclass(frozen=True)
class VariableDecl:
    """A `variable` block."""
    name: str
    type_expr: s.Expr | None
    default: s.Expr | None
    description: str
    sensitive: bool
    validations: tuple[tuple[s.Expr, s.Expr, SourcePos], ...]  # (condition, error_message, pos)
    pos: SourcePos


@dataclass(frozen=True)
class Lifecycle:
    """A resource's `lifecycle` block."""
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceDecl:
    """A `resource` block, nested blocks lowered to attribute values."""
    type: str
    name: str
    attributes: Mapping[str, s.Expr]  # nested blocks already lowered to tuples of objects
    attribute_pos: Mapping[str, SourcePos]
    count: s.Expr | None
    for_each: s.Expr | None
    enabled: s.Expr | None
    depends_on: tuple[s.Expr, ...]
    lifecycle: Lifecycle
    pos: SourcePos

    # computed once per declaration (the planner asks for them per instance, 100,000 times at 10,000 machines)
    @cached_property
    def address(self) -> str:
        return f"{self.type}.{self.name}"

    @cached_property
    def provider(self) -> str:
        return self.type.split("_", 1)[0]


@dataclass(frozen=True)
class OutputDecl:
    """An `output` block."""
    name: str
    expr: s.Expr
    sensitive: bool
    description: str
    pos: SourcePos


@dataclass(frozen=True)
class BlockDecl:
    """A block kept as attributes (provider, backend, secrets) to evaluate later."""

    kind: str
    label: str
    attributes: Mapping[str, s.Expr]
    pos: SourcePos


@dataclass(frozen=True)
class RoleDecl:
    """A role of an inventory service: which machines take it."""
    name: str
    attributes: Mapping[str, s.Expr]  # machines, tags, after
    pos: SourcePos


@dataclass(frozen=True)
class ServiceDecl:
    """An inventory `service` block and its roles."""
    name: str
    roles: tuple[RoleDecl, ...]
    settings: s.Expr | None
    pos: SourcePos


@dataclass(frozen=True)
class VarsFileDecl:
    """A file a `vars` generator writes."""
    name: str
    attributes: Mapping[str, s.Expr]
    pos: SourcePos


@dataclass(frozen=True)
class VarsDecl:
    """A `vars` block: generated secrets and the files they go to."""
    name: str
    attributes: Mapping[str, s.Expr]
    files: tuple[VarsFileDecl, ...]
    pos: SourcePos


@dataclass(frozen=True)
class Declarations:
    """Everything a configuration declares, by kind and name."""
    variables: Mapping[str, VariableDecl] = field(default_factory=dict)
    locals: Mapping[str, s.Attribute] = field(default_factory=dict)
    providers: Mapping[str, BlockDecl] = field(default_factory=dict)
    backend: BlockDecl | None = None
    resources: Mapping[str, ResourceDecl] = field(default_factory=dict)
    outputs: Mapping[str, OutputDecl] = field(default_factory=dict)
    services: tuple[ServiceDecl, ...] = ()
    vars: Mapping[str, VarsDecl] = field(default_factory=dict)
    secrets: BlockDecl | None = None


def _literal_bool(attr: s.Attribute | None, default: bool, errors: list[ConfigError]) -> bool:
    if attr is None:
        return default
    if isinstance(attr.expr, s.Literal) and isinstance(attr.expr.value, bool):
        return attr.expr.value
    errors.append(ConfigError(f'"{attr.name}" must be true or false (a literal)', attr.pos))
    return default


def _literal_str(attr: s.Attribute | None) -> str:
    if attr is not None and isinstance(attr.expr, s.Literal) and isinstance(attr.expr.value, str):
        return attr.expr.value
    return ""


def block_to_object(block: s.Block, errors: list[ConfigError] | None = None) -> s.ObjectExpr:
    """A nested block as an object expression (its own nested blocks, dynamic ones included, become lists
    of objects)."""
    items: list[tuple[s.Expr, s.Expr]] = [(s.Literal(a.pos, a.name), a.expr) for a in block.body.attributes]
    found: list[ConfigError] = [] if errors is None else errors
    for name, (expr, first) in nested_blocks(block.body.blocks, lambda b: block_to_object(b, found), found).items():
        items.append((s.Literal(first.pos, name), expr))
    if errors is None and found:
        raise ConfigErrors(found)
    return s.ObjectExpr(block.pos, tuple(items))


_NO_LIFECYCLE = Lifecycle()


def _lifecycle(block: s.Block | None, errors: list[ConfigError]) -> Lifecycle:
    if block is None:
        return _NO_LIFECYCLE
    body = block.body
    for attr in body.attributes:
        if attr.name not in ("prevent_destroy", "create_before_destroy", "ignore_changes"):
            errors.append(ConfigError(f'unknown lifecycle argument "{attr.name}"', attr.pos,
                                      hint=did_you_mean(attr.name, ["prevent_destroy", "create_before_destroy",
                                                                    "ignore_changes"])))
    ignore: list[str] = []
    ic = body.attribute("ignore_changes")
    if ic is not None:
        items = ic.expr.items if isinstance(ic.expr, s.TupleExpr) else None
        if items is None:
            errors.append(ConfigError("ignore_changes must be a list of attribute names", ic.pos))
        else:
            for item in items:
                if isinstance(item, s.ScopeRef):
                    ignore.append(item.name)
                elif isinstance(item, s.Literal) and isinstance(item.value, str):
                    ignore.append(item.value)
                else:
                    errors.append(ConfigError("ignore_changes entries must be attribute names", item.pos))
    return Lifecycle(
        prevent_destroy=_literal_bool(body.attribute("prevent_destroy"), False, errors),
        create_before_destroy=_literal_bool(body.attribute("create_before_destroy"), False, errors),
        ignore_changes=tuple(ignore),
    )


def _resource(block: s.Block, errors: list[ConfigError]) -> ResourceDecl | None:
    if len(block.labels) != 2:
        errors.append(ConfigError('a resource block needs two labels: resource "TYPE" "NAME"', block.pos))
        return None
    type_, name = block.labels
    if type_ not in RESOURCE_BLOCKS:
        errors.append(ConfigError(f'unknown resource type "{type_}"', block.pos,
                                  hint=did_you_mean(type_, RESOURCE_BLOCKS) or
                                  "supported: " + ", ".join(sorted(RESOURCE_BLOCKS))))
        return None
    spec = resource_spec(type_)
    attrs: dict[str, s.Expr] = {}
    attr_pos: dict[str, SourcePos] = {}
    meta: dict[str, s.Attribute] = {}
    for attr in block.body.attributes:
        if attr.name in META_ATTRIBUTES:
            meta[attr.name] = attr
        else:
            attrs[attr.name] = attr.expr
            attr_pos[attr.name] = attr.pos
    nested = [b for b in block.body.blocks if b.type != "lifecycle"]
    lifecycle_block = next((b for b in block.body.blocks if b.type == "lifecycle"), None) \
        if len(nested) != len(block.body.blocks) else None
    by_type = nested_blocks(nested, lambda b: block_to_object(b, errors), errors) if nested else {}
    for name_, (expr, first) in by_type.items():
        if name_ not in spec.blocks:
            errors.append(ConfigError(f'unknown block "{name_}" in {type_}', first.pos,
                                      hint=did_you_mean(name_, spec.blocks)))
            continue
        attrs[name_] = expr
        attr_pos[name_] = first.pos
    if "count" in meta and "for_each" in meta:
        errors.append(ConfigError("count and for_each cannot both be set", meta["for_each"].pos))
    if "provider" in meta:
        errors.append(ConfigError('the "provider" meta-argument is not supported (one provider per type)',
                                  meta["provider"].pos))
    depends: tuple[s.Expr, ...] = ()
    if "depends_on" in meta:
        dexpr = meta["depends_on"].expr
        if isinstance(dexpr, s.TupleExpr):
            depends = dexpr.items
        else:
            errors.append(ConfigError("depends_on must be a list of resource references", meta["depends_on"].pos))
    return ResourceDecl(
        type=type_, name=name, attributes=attrs, attribute_pos=attr_pos,
        count=meta["count"].expr if "count" in meta else None,
        for_each=meta["for_each"].expr if "for_each" in meta else None,
        enabled=meta["enabled"].expr if "enabled" in meta else None,
        depends_on=depends, lifecycle=_lifecycle(lifecycle_block, errors), pos=block.pos,
    )


def _variable(block: s.Block, errors: list[ConfigError]) -> VariableDecl | None:
    body = block.body
    allowed = {"type", "default", "description", "sensitive", "nullable"}
    for attr in body.attributes:
        if attr.name not in allowed:
            errors.append(ConfigError(f'unknown argument "{attr.name}" in variable "{block.labels[0]}"', attr.pos,
                                      hint=did_you_mean(attr.name, allowed)))
    validations = []
    for vb in body.blocks:
        if vb.type != "validation":
            errors.append(ConfigError(f'unknown block "{vb.type}" in variable', vb.pos))
            continue
        cond, msg = vb.body.attribute("condition"), vb.body.attribute("error_message")
        if cond is None or msg is None:
            errors.append(ConfigError("a validation block needs condition and error_message", vb.pos))
            continue
        validations.append((cond.expr, msg.expr, vb.pos))
    t, d = body.attribute("type"), body.attribute("default")
    return VariableDecl(
        name=block.labels[0], type_expr=t.expr if t else None, default=d.expr if d else None,
        description=_literal_str(body.attribute("description")),
        sensitive=_literal_bool(body.attribute("sensitive"), False, errors),
        validations=tuple(validations), pos=block.pos,
    )


def _attrs(body: s.Body, allowed: Iterable[str] | None, where: str, errors: list[ConfigError]) -> dict[str, s.Expr]:
    out: dict[str, s.Expr] = {}
    allowed_set = set(allowed) if allowed is not None else None
    for attr in body.attributes:
        if allowed_set is not None and attr.name not in allowed_set:
            errors.append(ConfigError(f'unknown argument "{attr.name}" in {where}', attr.pos,
                                      hint=did_you_mean(attr.name, allowed_set)))
            continue
        out[attr.name] = attr.expr
    return out


def _labels_ok(block: s.Block, want: int, usage: str, errors: list[ConfigError]) -> bool:
    if len(block.labels) != want:
        errors.append(ConfigError(f"{block.type} block needs {want} label(s): {usage}", block.pos))
        return False
    return True


class _Collector:
    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.seen: dict[str, SourcePos] = {}

    def unique(self, key: str, what: str, pos: SourcePos) -> bool:
        first = self.seen.get(key)
        if first is not None:
            self.errors.append(ConfigError(f"{what} is declared twice; first at {first}", pos))
            return False
        self.seen[key] = pos
        return True


def declarations(files: Iterable[s.SourceFile]) -> Declarations:
    """All declarations of a configuration directory, or ConfigErrors listing every structural problem."""
    c = _Collector()
    errors = c.errors
    variables: dict[str, VariableDecl] = {}
    locals_: dict[str, s.Attribute] = {}
    providers: dict[str, BlockDecl] = {}
    resources: dict[str, ResourceDecl] = {}
    outputs: dict[str, OutputDecl] = {}
    services: list[ServiceDecl] = []
    vars_: dict[str, VarsDecl] = {}
    backend: BlockDecl | None = None
    secrets: BlockDecl | None = None
    for f in files:
        for attr in f.body.attributes:
            errors.append(ConfigError(f'unexpected argument "{attr.name}" at top level; arguments belong in a block',
                                      attr.pos))
        for block in f.body.blocks:
            kind = block.type
            if kind not in TOP_LEVEL_NAMES:
                errors.append(ConfigError(f'unknown block type "{kind}"', block.pos,
                                          hint=did_you_mean(kind, TOP_LEVEL_NAMES)))
            elif kind == "resource":
                decl = _resource(block, errors)
                if decl and c.unique("resource " + decl.address, f"resource {decl.address}", block.pos):
                    resources[decl.address] = decl
            elif kind == "variable":
                if _labels_ok(block, 1, 'variable "NAME"', errors) and \
                        c.unique("var " + block.labels[0], f'variable "{block.labels[0]}"', block.pos):
                    v = _variable(block, errors)
                    if v:
                        variables[v.name] = v
            elif kind == "locals":
                for attr in block.body.attributes:
                    if c.unique("local " + attr.name, f'local value "{attr.name}"', attr.pos):
                        locals_[attr.name] = attr
            elif kind == "output":
                if _labels_ok(block, 1, 'output "NAME"', errors) and \
                        c.unique("output " + block.labels[0], f'output "{block.labels[0]}"', block.pos):
                    a = _attrs(block.body, ("value", "sensitive", "description", "depends_on"), "output", errors)
                    if "value" not in a:
                        errors.append(ConfigError(f'output "{block.labels[0]}" needs a value', block.pos))
                        continue
                    outputs[block.labels[0]] = OutputDecl(
                        block.labels[0], a["value"], _literal_bool(block.body.attribute("sensitive"), False, errors),
                        _literal_str(block.body.attribute("description")), block.pos)
            elif kind == "provider":
                if _labels_ok(block, 1, 'provider "NAME"', errors) and \
                        c.unique("provider " + block.labels[0], f'provider "{block.labels[0]}"', block.pos):
                    providers[block.labels[0]] = BlockDecl("provider", block.labels[0],
                                                           _attrs(block.body, None, "provider", errors), block.pos)
            elif kind == "terraform":
                for b in block.body.blocks:
                    if b.type == "backend" and _labels_ok(b, 1, 'backend "local" | backend "pg"', errors):
                        if backend is not None:
                            errors.append(ConfigError(f"backend is declared twice; first at {backend.pos}", b.pos))
                        backend = BlockDecl("backend", b.labels[0], _attrs(b.body, None, "backend", errors), b.pos)
                    elif b.type != "backend":
                        errors.append(ConfigError(f'unknown block "{b.type}" in terraform', b.pos))
                for attr in block.body.attributes:
                    if attr.name not in ("required_version", "required_providers"):
                        errors.append(ConfigError(f'unknown argument "{attr.name}" in terraform', attr.pos))
            elif kind == "inventory":
                services.extend(_inventory(block, c))
            elif kind == "vars":
                if _labels_ok(block, 1, 'vars "GENERATOR"', errors) and \
                        c.unique("vars " + block.labels[0], f'vars "{block.labels[0]}"', block.pos):
                    files_ = tuple(VarsFileDecl(b.labels[0], _attrs(b.body, None, "file", errors), b.pos)
                                   for b in block.body.blocks if b.type == "file" and
                                   _labels_ok(b, 1, 'file "NAME"', errors))
                    for b in block.body.blocks:
                        if b.type != "file":
                            errors.append(ConfigError(f'unknown block "{b.type}" in vars', b.pos))
                    vars_[block.labels[0]] = VarsDecl(block.labels[0], _attrs(block.body, None, "vars", errors),
                                                      files_, block.pos)
            elif kind == "secrets":
                if secrets is not None:
                    errors.append(ConfigError(f"secrets is declared twice; first at {secrets.pos}", block.pos))
                secrets = BlockDecl("secrets", "", _attrs(block.body, None, "secrets", errors), block.pos)
    if errors:
        raise ConfigErrors(errors)
    return Declarations(variables, locals_, providers, backend, resources, outputs, tuple(services), vars_, secrets)


def _inventory(block: s.Block, c: _Collector) -> list[ServiceDecl]:
    out: list[ServiceDecl] = []
    for attr in block.body.attributes:
        c.errors.append(ConfigError(f'unexpected argument "{attr.name}" in inventory; use service blocks', attr.pos))
    for sb in block.body.blocks:
        if sb.type != "service":
            c.errors.append(ConfigError(f'unknown block "{sb.type}" in inventory', sb.pos, hint='use service "NAME"'))
            continue
        if not _labels_ok(sb, 1, 'service "NAME"', c.errors) or \
                not c.unique("service " + sb.labels[0], f'service "{sb.labels[0]}"', sb.pos):
            continue
        roles = []
        for rb in sb.body.blocks:
            if rb.type != "role":
                c.errors.append(ConfigError(f'unknown block "{rb.type}" in service', rb.pos))
                continue
            if _labels_ok(rb, 1, 'role "NAME"', c.errors) and \
                    c.unique(f"role {sb.labels[0]}.{rb.labels[0]}", f'role "{rb.labels[0]}"', rb.pos):
                roles.append(RoleDecl(rb.labels[0], _attrs(rb.body, ("machines", "tags", "after"), "role",
                                                           c.errors), rb.pos))
        settings = sb.body.attribute("settings")
        for attr in sb.body.attributes:
            if attr.name != "settings":
                c.errors.append(ConfigError(f'unknown argument "{attr.name}" in service', attr.pos))
        out.append(ServiceDecl(sb.labels[0], tuple(roles), settings.expr if settings else None, sb.pos))
    return out
