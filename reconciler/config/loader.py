"""Load a configuration directory: every `*.tf` and `*.tf.json` in it (not recursive), merged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.config import syntax as s
from reconciler.config.decls import Declarations, declarations
from reconciler.config.overrides import merge_overrides
from reconciler.errors import ConfigError, ConfigErrors, SourcePos


@dataclass(frozen=True)
class Configuration:
    """The loaded files of one directory and their declarations."""

    directory: Path
    files: tuple[s.SourceFile, ...]
    decls: Declarations

    def snapshot(self) -> dict[str, str]:
        """File name -> text, as a saved plan keeps it."""
        return {f.path: f.text for f in self.files}


def config_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise ConfigError(f"configuration directory {directory} does not exist", hint="pass -C DIR")
    found = [p for p in directory.iterdir() if p.is_file() and (p.name.endswith(".tf") or p.name.endswith(".tf.json"))]
    return sorted(found, key=lambda p: p.name)


def parse_file(name: str, text: str) -> s.SourceFile:
    """Parse one file's text by its name's ending."""
    from reconciler.config.hcl_loader import load_hcl_text
    from reconciler.config.json_loader import load_json_text

    if name.endswith(".tf.json"):
        return load_json_text(text, name)
    return load_hcl_text(text, name)


def load_sources(directory: Path, texts: dict[str, str]) -> Configuration:
    errors: list[ConfigError] = []
    files: list[s.SourceFile] = []
    for name in sorted(texts):
        try:
            files.append(parse_file(name, texts[name]))
        except ConfigErrors as e:
            errors.extend(e.errors)
        except ConfigError as e:
            errors.append(e)
    if errors:
        raise ConfigErrors(errors)
    # `files` keeps every file as written (a saved plan's snapshot); the declarations see overrides merged
    return Configuration(directory, tuple(files), declarations(merge_overrides(files)))


def read_source(path: Path, display: str) -> str:
    """A configuration file's text, or one clear error naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{display} is not UTF-8 text: {e.reason}", SourcePos(display, 1)) from None
    except OSError as e:
        raise ConfigError(f"cannot read {display}: {e.strerror}", SourcePos(display, 1)) from None


def load_directory(directory: Path) -> Configuration:
    """Load and structurally check every configuration file of `directory`."""
    paths = config_files(directory)
    if not paths:
        raise ConfigError(f"no *.tf or *.tf.json files in {directory}", hint="pass -C DIR with your configuration")
    return load_sources(directory, {p.name: read_source(p, p.name) for p in paths})
