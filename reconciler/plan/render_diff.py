"""One resource's attributes as Terraform's text plan shows them: `+ name = value` for a create,
`~ name = old -> new` for a change (`# forces replacement` after an attribute that forces a replacement),
`- name = old -> null` for a destroy, `(known after apply)` and `(sensitive value)` in place of values,
maps and lists over several lines with a symbol per element, nested blocks as `name { ... }`, and in an
update the unchanged attributes hidden behind a count (the `id` and `name` still shown to say which one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.values import UNKNOWN, to_json_value

ABSENT: Any = object()  # no value on this side (distinct from null)
KNOWN_AFTER = "(known after apply)"
SENSITIVE = "(sensitive value)"
STEP = "    "
IDENTIFYING = ("id", "name")


def scalar(value: Any) -> str:
    if value is UNKNOWN:
        return KNOWN_AFTER
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        if "\n" in value:
            return "<<-EOT (" + str(value.count("\n") + 1) + " lines)"
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(to_json_value(value, KNOWN_AFTER), ensure_ascii=False, sort_keys=True)


def _is_blocks(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _symbol(before: Any, after: Any) -> str:
    if before is ABSENT or (before is None and after is not None and after is not ABSENT):
        return "+"
    if after is ABSENT:
        return "-"
    return " " if before == after and after is not UNKNOWN else "~"


class Differ:
    """Renders attribute lines for one resource; `forces` names top-level attributes forcing replacement."""

    def __init__(self, sensitive: tuple[str, ...] = (), forces: tuple[str, ...] = (), show_all: bool = False):
        self.sensitive = set(sensitive)
        self.forces = set(forces)
        self.show_all = show_all  # a create or destroy shows every attribute

    def body(self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, indent: str) -> list[str]:
        b = dict(before or {}) if before is not None else {}
        a = dict(after or {}) if after is not None else {}
        keys = sorted(set(b) | set(a))
        return self._members(keys, b if before is not None else {}, a if after is not None else {},
                             indent, top=True, missing_before=before is None, missing_after=after is None)

    def _members(self, keys: list[str], b: Mapping[str, Any], a: Mapping[str, Any], indent: str, *, top: bool,
                 missing_before: bool = False, missing_after: bool = False, quote: bool = False) -> list[str]:
        lines: list[str] = []
        attrs = [k for k in keys if not (_is_blocks(b.get(k)) or _is_blocks(a.get(k)))]
        blocks = [k for k in keys if k not in attrs]
        hidden_attrs = hidden_blocks = 0
        shown = []
        for k in attrs:
            bv = ABSENT if missing_before or k not in b else b[k]
            av = ABSENT if missing_after or k not in a else a[k]
            if bv is ABSENT and av is None:
                continue  # an unset optional argument
            if _symbol(bv, av) == " " and not self.show_all and not (top and k in IDENTIFYING):
                hidden_attrs += 1
                continue
            shown.append((k, bv, av))
        width = max((len(self._key(k, quote)) for k, _, _ in shown), default=0)
        for k, bv, av in shown:
            lines += self._attribute(k, bv, av, indent, width, top, quote)
        for k in blocks:
            bl = [] if missing_before else list(b.get(k) or [])
            al = [] if missing_after else list(a.get(k) or [])
            for i in range(max(len(bl), len(al))):
                bi = bl[i] if i < len(bl) else None
                ai = al[i] if i < len(al) else None
                sym = "+" if bi is None else "-" if ai is None else " " if bi == ai else "~"
                if sym == " " and not self.show_all:
                    hidden_blocks += 1
                    continue
                force = "  # forces replacement" if top and k in self.forces else ""
                lines.append(f"{indent}{sym} {k} {{{force}")
                lines += self._members(sorted(set(bi or {}) | set(ai or {})), bi or {}, ai or {}, indent + STEP,
                                       top=False, missing_before=bi is None, missing_after=ai is None)
                lines.append(f"{indent}  }}")
        if hidden_attrs:
            lines.append(f"{indent}  # ({hidden_attrs} unchanged attribute{'s' if hidden_attrs > 1 else ''} hidden)")
        if hidden_blocks:
            lines.append(f"{indent}  # ({hidden_blocks} unchanged block{'s' if hidden_blocks > 1 else ''} hidden)")
        return lines

    @staticmethod
    def _key(k: str, quote: bool) -> str:
        return json.dumps(k) if quote else k

    def _attribute(self, k: str, bv: Any, av: Any, indent: str, width: int, top: bool, quote: bool) -> list[str]:
        sym = _symbol(bv, av)
        name = self._key(k, quote).ljust(width)
        force = "  # forces replacement" if top and k in self.forces and sym == "~" else ""
        if top and k in self.sensitive:
            return [f"{indent}{sym} {name} = {self._pair(sym, SENSITIVE if bv is not ABSENT else bv, SENSITIVE)}"
                    f"{force}"]
        if isinstance(bv, Mapping | list) or isinstance(av, Mapping | list):
            nested = self._collection(bv, av, indent, sym, top)
            if nested is not None:
                return [f"{indent}{sym} {name} = {nested[0]}{force}", *nested[1:]]
        return [f"{indent}{sym} {name} = {self._pair(sym, bv, av, top)}{force}"]

    @staticmethod
    def _pair(sym: str, bv: Any, av: Any, top: bool = True) -> str:
        if sym == "+":
            return av if av == SENSITIVE else scalar(av)
        if sym == "-":
            return (bv if bv == SENSITIVE else scalar(bv)) + (" -> null" if top else "")
        if sym == " ":
            return scalar(av)
        return f"{bv if bv == SENSITIVE else scalar(bv)} -> {av if av == SENSITIVE else scalar(av)}"

    def _collection(self, bv: Any, av: Any, indent: str, sym: str, top: bool) -> list[str] | None:
        """A map or list over several lines with a symbol per element; None to show it on one line."""
        inner = indent + STEP
        def fits(kind: type) -> bool:
            return all(v is ABSENT or v is None or isinstance(v, kind) for v in (bv, av))

        if fits(Mapping):
            bm: Mapping[str, Any] = bv if isinstance(bv, Mapping) else {}
            am: Mapping[str, Any] = av if isinstance(av, Mapping) else {}
            body = self._members(sorted(set(bm) | set(am)), bm, am, inner, top=False, quote=True,
                                 missing_before=not isinstance(bv, Mapping), missing_after=not isinstance(av, Mapping))
            tail = " -> null" if sym == "-" and top else ""
            return ["{", *body, f"{indent}  }}{tail}"]
        if fits(list):
            b = bv if isinstance(bv, list) else []
            a = av if isinstance(av, list) else []
            lines = ["["]
            hidden = 0
            for item in b:
                if item not in a:
                    lines.append(f"{inner}- {scalar(item)},")
            for item in a:
                if item in b:
                    if self.show_all or sym != "~":
                        lines.append(f"{inner}  {scalar(item)},")
                    else:
                        hidden += 1
                else:
                    lines.append(f"{inner}+ {scalar(item)},")
            if hidden:
                lines.append(f"{inner}  # ({hidden} unchanged element{'s' if hidden > 1 else ''} hidden)")
            tail = " -> null" if sym == "-" and top else ""
            lines.append(f"{indent}  ]{tail}")
            return lines
        return None
