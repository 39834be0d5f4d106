"""Terraform's encoding and hash functions: base64, gzip, URL, CSV, YAML, and the digests (hashlib).

`yamlencode` writes YAML as Terraform's does (go-yaml v3 via cty): keys sorted, every string and key
double-quoted, a string with a newline as a `|` block (`|-` without a final newline), `[]`/`{}` for empty
collections, block style otherwise. `yamldecode` reads documents through PyYAML's safe loader with YAML 1.1
booleans as go-yaml reads them (`y`, `yes`, `on`... are true).
"""

from __future__ import annotations

import base64
import binascii
import csv
import gzip
import hashlib
import io
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

from reconciler.config.functions_common import as_string
from reconciler.config.valueops import ValueProblem, format_number, normalize_json
from reconciler.values import UNKNOWN, is_known


def base64encode(_: Path, text: Any) -> Any:
    return base64.b64encode(as_string(text, "the argument").encode()).decode()


def base64decode(_: Path, text: Any) -> Any:
    try:
        raw = base64.b64decode(as_string(text, "the argument"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueProblem("failed to decode base64 data") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueProblem("the result of decoding the provided string is not valid UTF-8") from None


def base64gzip(_: Path, text: Any) -> Any:
    data = gzip.compress(as_string(text, "the argument").encode(), mtime=0)
    return base64.b64encode(data).decode()


def urlencode(_: Path, text: Any) -> Any:
    return urllib.parse.quote_plus(as_string(text, "the argument"), safe="")


def _digest(name: str) -> Any:
    def hexdigest(_: Path, text: Any) -> Any:
        return hashlib.new(name, as_string(text, "the argument").encode()).hexdigest()

    def b64digest(_: Path, text: Any) -> Any:
        return base64.b64encode(hashlib.new(name, as_string(text, "the argument").encode()).digest()).decode()

    return hexdigest, b64digest


md5, _ = _digest("md5")
sha1, _ = _digest("sha1")
sha256, base64sha256 = _digest("sha256")
sha512, base64sha512 = _digest("sha512")


def csvdecode(_: Path, text: Any) -> Any:
    rows = list(csv.reader(io.StringIO(as_string(text, "the argument"))))
    if not rows:
        raise ValueProblem("missing header line")
    header, out = rows[0], []
    for i, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise ValueProblem(f"record on line {i}: wrong number of fields")
        out.append(dict(zip(header, row, strict=True)))
    return out


_BEST_WIDTH = 80  # go-yaml's line width


def _yaml_string(s: str, column: int = 0, indent: str = "") -> str:
    """A double-quoted YAML string starting at `column`; like go-yaml, a space met past column 80 becomes a
    line break followed by `indent` (a space right after it is escaped so it survives the folding)."""
    quoted = json.dumps(s, ensure_ascii=False)
    if column + len(quoted) <= _BEST_WIDTH or " " not in s:
        return quoted
    out, col, spaces = ['"'], column + 1, False
    body = quoted[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == " ":
            if not spaces and col > _BEST_WIDTH and i != 0 and i != len(body) - 1:
                out.append("\n" + indent)
                col = len(indent)
                if i + 1 < len(body) and body[i + 1] == " ":
                    out.append("\\")
                    col += 1
            else:
                out.append(c)
                col += 1
            spaces = True
        else:
            out.append(c)
            col += 1
            spaces = False
        i += 1
    out.append('"')
    return "".join(out)


def _yaml_scalar(value: Any, column: int = 0, indent: str = "") -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    return _yaml_string(value, column, indent)


def _yaml_lines(value: Any, indent: str) -> list[str]:
    """Lines of a block-style node at `indent` (for a collection; a scalar is one line)."""
    lines: list[str] = []
    if isinstance(value, dict):
        for k in sorted(value):
            lines.extend(_yaml_entry(_yaml_string(k) + ":", value[k], indent, indent + "  "))
    else:
        for v in value:
            lines.extend(_yaml_entry("-", v, indent, indent + "  ", in_list=True))
    return lines


def _yaml_entry(head: str, value: Any, indent: str, child: str, in_list: bool = False) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        marker = "|" if value.endswith("\n") else "|-"
        body = value[:-1] if value.endswith("\n") else value
        return [f"{indent}{head} {marker}", *((child + line) if line else "" for line in body.split("\n"))]
    if isinstance(value, (dict, list)) and value:
        if in_list:  # "- " followed by the first line of the nested collection on the same line
            nested = _yaml_lines(value, child)
            return [f"{indent}- {nested[0][len(child):]}", *nested[1:]]
        return [f"{indent}{head}", *_yaml_lines(value, child if isinstance(value, dict) else indent)]
    if isinstance(value, (dict, list)):
        return [f"{indent}{head} {'{}' if isinstance(value, dict) else '[]'}"]
    prefix = f"{indent}{head} "
    return [prefix + _yaml_scalar(value, len(prefix), child)]


def yamlencode(_: Path, value: Any) -> Any:
    if not is_known(value):
        return UNKNOWN
    if isinstance(value, (dict, list)) and value:
        return "\n".join(_yaml_lines(value, "")) + "\n"
    if isinstance(value, (dict, list)):
        return "{}\n" if isinstance(value, dict) else "[]\n"
    if isinstance(value, str) and "\n" in value:
        return "\n".join(_yaml_entry("", value, "", "  "))[1:] + "\n"
    return _yaml_scalar(value) + "\n"


def _yaml_loader() -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # YAML 1.1 booleans, as go-yaml reads them: PyYAML's set plus y/Y/n/N
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
    Loader.add_constructor("tag:yaml.org,2002:bool", _yaml_bool)
    return Loader


def _yaml_bool(loader: Any, node: Any) -> bool:
    return str(loader.construct_scalar(node)).lower() in ("y", "yes", "true", "on")


def yamldecode(_: Path, text: Any) -> Any:
    import yaml

    try:
        return normalize_json(_plain(yaml.load(as_string(text, "the argument"), Loader=_yaml_loader())))
    except yaml.YAMLError as e:
        raise ValueProblem(f"invalid YAML: {str(e).splitlines()[0]}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return str(value)


def textencodebase64(_: Path, text: Any, encoding: Any) -> Any:
    name = as_string(encoding, "the encoding")
    try:
        return base64.b64encode(as_string(text, "the string").encode(_codec(name))).decode()
    except UnicodeEncodeError:
        raise ValueProblem(f"the given string contains characters that cannot be represented in {name}") from None


def textdecodebase64(_: Path, text: Any, encoding: Any) -> Any:
    name = as_string(encoding, "the encoding")
    try:
        raw = base64.b64decode(as_string(text, "the string"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueProblem("the given value has an invalid base64 symbol") from None
    try:
        return raw.decode(_codec(name))
    except UnicodeDecodeError:
        raise ValueProblem(f"the given value is not valid {name}") from None


def _codec(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueProblem(f'"{name}" is not a supported IANA encoding name or alias') from None


def uuidv5(_: Path, namespace: Any, name: Any) -> Any:
    import uuid

    ns = as_string(namespace, "the namespace")
    known = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID,
             "x500": uuid.NAMESPACE_X500}
    try:
        space = known[ns] if ns in known else uuid.UUID(ns)
    except ValueError:
        raise ValueProblem(f'uuidv5() doesn\'t support namespace "{ns}"') from None
    return str(uuid.uuid5(space, as_string(name, "the name")))
