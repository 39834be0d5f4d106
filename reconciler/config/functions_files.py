"""Terraform's filesystem functions beyond file(): templatefile, templatestring, fileexists, fileset,
filebase64, the file digests, basename, dirname, abspath, pathexpand; plus sensitive/nonsensitive, which
only mark values in Terraform.

templatefile renders a file as a template (strip markers and all, as a heredoc's text is read) with only
the variables it is given in scope; it reads the file through file(), so file()'s rules apply.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
from pathlib import Path
from typing import Any

from reconciler.config.functions_common import as_map, as_string
from reconciler.config.valueops import SetValue, ValueProblem
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
    return os.path.normpath(os.path.join(base_dir.resolve(), as_string(path, "the path")))


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


def _file_digest(name: str, b64: bool) -> Any:
    def digest(base_dir: Path, path: Any) -> Any:
        file_name = as_string(path, "the path")
        try:
            data = _resolve(base_dir, file_name).read_bytes()
        except OSError as e:
            raise ValueProblem(f'cannot read "{file_name}": {e.strerror}') from None
        h = hashlib.new(name, data)
        return base64.b64encode(h.digest()).decode() if b64 else h.hexdigest()

    return digest


filemd5 = _file_digest("md5", False)
filesha1 = _file_digest("sha1", False)
filesha256 = _file_digest("sha256", False)
filesha512 = _file_digest("sha512", False)
filebase64sha256 = _file_digest("sha256", True)
filebase64sha512 = _file_digest("sha512", True)


def fileset(base_dir: Path, path: Any, pattern: Any) -> Any:
    """Files (not directories) under `path` matching `pattern` (`*`, `**`, `?`, `[...]`), relative, sorted."""
    root = _resolve(base_dir, as_string(path, "the path"))
    glob = as_string(pattern, "the pattern")
    found = {p.relative_to(root).as_posix() for p in root.glob(glob) if p.is_file()}
    if "**/" in glob:  # Go's doublestar also lets ** match no directory at all
        found |= {p.relative_to(root).as_posix() for p in root.glob(glob.replace("**/", "")) if p.is_file()}
    return SetValue(sorted(found))


def templatestring(base_dir: Path, template: Any, variables: Any) -> Any:
    from reconciler.config.evaluator import evaluate
    from reconciler.config.hcl_loader import parse_quoted_template
    from reconciler.config.template_text import UnterminatedTemplate, hcl_quoted

    text = as_string(template, "the template")
    names = as_map(variables, "the variables")
    pos = SourcePos("templatestring", 1)
    try:
        return evaluate(parse_quoted_template(hcl_quoted(text), pos), _TemplateScope(base_dir, dict(names)))
    except UnterminatedTemplate as e:
        raise ValueProblem(str(e)) from None
    except ConfigError as e:
        raise ValueProblem(e.message) from None
