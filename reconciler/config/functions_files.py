"""Terraform's filesystem functions beyond file(): templatefile, fileexists, filebase64, basename,
dirname, abspath, pathexpand; plus sensitive/nonsensitive, which only mark values in Terraform.

templatefile renders a file as a template (strip markers and all, as a heredoc's text is read) with only
the variables it is given in scope; it reads the file through file(), so file()'s rules apply.
"""

from __future__ import annotations

import base64
import os
import posixpath
from pathlib import Path
from typing import Any

from reconciler.config.functions_common import as_map, as_string
from reconciler.config.valueops import ValueProblem
from reconciler.errors import ConfigError, SourcePos


def _resolve(base_dir: Path, name: str) -> Path:
    full = Path(name).expanduser()
    return full if full.is_absolute() else base_dir / full


def fileexists(base_dir: Path, path: Any) -> Any:
    full = _resolve(base_dir, as_string(path, "the path"))
    if full.exists() and not full.is_file():
        raise ValueProblem(f'"{path}" is not a regular file, but {"a directory" if full.is_dir() else "special"}')
    return full.is_file()


def filebase64(base_dir: Path, path: Any) -> Any:
    name = as_string(path, "the path")
    try:
        return base64.b64encode(_resolve(base_dir, name).read_bytes()).decode()
    except OSError as e:
        raise ValueProblem(f'cannot read "{name}": {e.strerror}') from None


def basename(_: Path, path: Any) -> Any:
    p = as_string(path, "the path").rstrip("/")
    return posixpath.basename(p) or ("/" if as_string(path, "the path").startswith("/") else ".")


def dirname(_: Path, path: Any) -> Any:
    p = as_string(path, "the path")
    d = posixpath.dirname(p.rstrip("/") or p)
    return d or "."


def abspath(base_dir: Path, path: Any) -> Any:
    return os.path.abspath(as_string(path, "the path"))


def pathexpand(_: Path, path: Any) -> Any:
    return os.path.expanduser(as_string(path, "the path"))


class _TemplateScope:
    def __init__(self, base_dir: Path, names: dict[str, Any]) -> None:
        self.base_dir = base_dir
        self.names = names

    def lookup(self, name: str, pos: SourcePos) -> Any:
        if name in self.names:
            return self.names[name]
        raise ConfigError(f'vars map does not contain key "{name}", referenced at {pos.file}:{pos.line}', pos)


def templatefile(base_dir: Path, path: Any, variables: Any) -> Any:
    from reconciler.config.evaluator import evaluate
    from reconciler.config.functions import FUNCTIONS
    from reconciler.config.hcl_loader import parse_quoted_template
    from reconciler.config.template_text import UnterminatedTemplate, hcl_quoted

    name = as_string(path, "the path")
    names = as_map(variables, "the variables")
    text = FUNCTIONS["file"].impl(base_dir, name)
    pos = SourcePos(name, 1)
    try:
        expr = parse_quoted_template(hcl_quoted(text), pos)
        return evaluate(expr, _TemplateScope(base_dir, dict(names)))
    except UnterminatedTemplate as e:
        raise ValueProblem(f"{name}: {e}") from None
    except ConfigError as e:
        raise ValueProblem(f"{name}: {e.message}") from None


def sensitive(_: Path, value: Any) -> Any:
    return value


def nonsensitive(_: Path, value: Any) -> Any:
    return value
