"""Input variable values: defaults, `TF_VAR_*`, `terraform.tfvars`, `*.auto.tfvars`, `--var-file`, `--var`
(later sources win, as in Terraform), converted to their declared types and checked by `validation` blocks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config.decls import VariableDecl
from reconciler.config.limits import too_deep
from reconciler.errors import ConfigError, ConfigErrors, SourcePos, VariableError
from reconciler.values import UNKNOWN


@dataclass(frozen=True)
class VarSources:
    """Where variable values come from on the command line and in the environment."""

    cli: tuple[str, ...] = ()  # "k=v" in order
    files: tuple[Path, ...] = ()
    env: Mapping[str, str] | None = None
    # ("var", "k=v") and ("var_file", path) in command-line order; when given, applied in this order (the
    # later one wins, as in Terraform) instead of every file first and then every --var
    order: tuple[tuple[str, str], ...] = ()


class _PlainScope:
    def __init__(self, base_dir: Path, values: Mapping[str, Any]) -> None:
        self.base_dir = base_dir
        self._values = values

    def lookup(self, name: str, pos: SourcePos) -> Any:
        if name in self._values:
            return self._values[name]
        raise ConfigError(f'"{name}" cannot be used here; only literal values and var are allowed', pos)


def _file_values(path: Path, display: str) -> dict[str, tuple[Any, SourcePos]]:
    from reconciler.config.evaluator import evaluate
    from reconciler.config.hcl_loader import load_hcl_text

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise VariableError(f"cannot read variables file {display}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise VariableError("not UTF-8 text", SourcePos(display, line),
                            hint="save the variables file as UTF-8") from None
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise VariableError(f"invalid JSON: {e.msg}", SourcePos(display, e.lineno)) from None
        except RecursionError:
            raise VariableError("nested too deeply to read", SourcePos(display, too_deep(text) or 1)) from None
        if not isinstance(data, dict):
            raise VariableError("a .tfvars.json file must hold one JSON object", SourcePos(display, 1))
        return {k: (v, SourcePos(display, 1)) for k, v in data.items()}
    source = load_hcl_text(text, display)
    if source.body.blocks:
        raise VariableError("a .tfvars file holds only NAME = VALUE lines, not blocks", source.body.blocks[0].pos)
    scope = _PlainScope(path.parent, {})
    return {a.name: (evaluate(a.expr, scope), a.pos) for a in source.body.attributes}


def _parse_cli_value(raw: str, decl: VariableDecl, type_spec: Any, pos: SourcePos) -> Any:
    """--var values are strings, unless the variable's type is a collection or any-typed structure."""
    from reconciler.config.evaluator import evaluate
    from reconciler.config.hcl_loader import parse_expression

    kind = str(type_spec) if type_spec is not None else "string"
    if kind in ("string", "number", "bool", "any"):
        return raw
    return evaluate(parse_expression(raw, pos), _PlainScope(Path("."), {}))


def _read_file(path: Path, directory: Path, decls: Mapping[str, VariableDecl],
               raw: dict[str, tuple[Any, SourcePos, bool]], errors: list[ConfigError]) -> None:
    display = path.name if path.parent == directory else str(path)
    for name, (value, pos) in _file_values(path, display).items():
        if name not in decls:
            errors.append(VariableError(f'variables file sets undeclared variable "{name}"', pos,
                                        hint=f'declare it with variable "{name}" {{}} or remove the line'))
            continue
        raw[name] = (value, pos, False)


def resolve_variables(decls: Mapping[str, VariableDecl], directory: Path, sources: VarSources, *,
                      require_all: bool = True) -> dict[str, Any]:
    """The value of every declared variable. With `require_all` False (validate), missing ones are UNKNOWN."""
    from reconciler.config.evaluator import evaluate
    from reconciler.config.types import convert, parse_type

    errors: list[ConfigError] = []
    types: dict[str, Any] = {}
    for name, decl in decls.items():
        if decl.type_expr is not None:
            try:
                types[name] = parse_type(decl.type_expr)
            except ConfigError as e:
                errors.append(e)
    if errors:
        raise ConfigErrors(errors)

    raw: dict[str, tuple[Any, SourcePos, bool]] = {}  # name -> (value, where, from_cli_string)
    env = sources.env or {}
    for key, value in sorted(env.items()):
        if key.startswith("TF_VAR_") and key[7:] in decls:
            raw[key[7:]] = (value, SourcePos(f"environment {key}", 0), True)
    auto = [directory / "terraform.tfvars", directory / "terraform.tfvars.json",
            *sorted(directory.glob("*.auto.tfvars")), *sorted(directory.glob("*.auto.tfvars.json"))]
    steps: list[tuple[str, Any]] = [("var_file", p) for p in auto if p.is_file()]
    if sources.order:
        steps += [(kind, Path(v) if kind == "var_file" else v) for kind, v in sources.order]
    else:
        steps += [("var_file", p) for p in sources.files] + [("var", item) for item in sources.cli]
    for kind, item in steps:
        if kind == "var_file":
            _read_file(item, directory, decls, raw, errors)
            continue
        name, sep, value = item.partition("=")
        pos = SourcePos(f"--var {name}", 0)
        if not sep or not name:
            errors.append(VariableError(f'--var "{item}" is not NAME=VALUE'))
            continue
        if name not in decls:
            errors.append(VariableError(f'--var sets undeclared variable "{name}"',
                                        hint=f'declare it with variable "{name}" {{}}'))
            continue
        raw[name] = (value, pos, True)

    values: dict[str, Any] = {}
    for name, decl in decls.items():
        spec = types.get(name)
        try:
            if name in raw:
                value, pos, from_cli = raw[name]
                if from_cli:
                    value = _parse_cli_value(value, decl, spec, pos)
            elif decl.default is not None:
                pos = decl.default.pos
                value = evaluate(decl.default, _PlainScope(directory, {}))
            elif require_all:
                errors.append(VariableError(f'variable "{name}" has no value', decl.pos,
                                            hint=f"set it with --var {name}=..., a .tfvars file or TF_VAR_{name}"))
                continue
            else:
                values[name] = UNKNOWN
                continue
            values[name] = convert(value, spec, pos, name) if spec is not None else value
        except ConfigError as e:
            errors.append(e)
    if errors:
        raise ConfigErrors(errors)
    errors.extend(_validations(decls, values, directory))
    if errors:
        raise ConfigErrors(errors)
    return values


def _validations(decls: Mapping[str, VariableDecl], values: Mapping[str, Any], directory: Path) -> list[ConfigError]:
    from reconciler.config.evaluator import evaluate

    errors: list[ConfigError] = []
    scope = _PlainScope(directory, {"var": dict(values)})
    for name, decl in decls.items():
        if values.get(name) is UNKNOWN:
            continue
        for cond, message, pos in decl.validations:
            ok = evaluate(cond, scope)
            if ok is UNKNOWN:
                continue
            if not isinstance(ok, bool):
                errors.append(ConfigError("a validation condition must be true or false", cond.pos))
            elif not ok:
                msg = evaluate(message, scope)
                errors.append(VariableError(f'invalid value for variable "{name}": {msg}', pos))
    return errors


def retyped(decls: Mapping[str, VariableDecl], values: Mapping[str, Any]) -> dict[str, Any]:
    """Variable values read back from a saved plan, with their declared types applied again (a set(...)
    variable is a set again, so for_each accepts it as it did when the plan was made)."""
    from reconciler.config.types import convert, parse_type

    out = dict(values)
    for name, decl in decls.items():
        if decl.type_expr is not None and name in out and out[name] is not None and out[name] is not UNKNOWN:
            out[name] = convert(out[name], parse_type(decl.type_expr), decl.pos, name)
    return out


def cli_sources(var: Sequence[str], var_file: Sequence[str], env: Mapping[str, str],
                order: Sequence[tuple[str, str]] = ()) -> VarSources:
    return VarSources(tuple(var), tuple(Path(p) for p in var_file), dict(env), tuple(order))
