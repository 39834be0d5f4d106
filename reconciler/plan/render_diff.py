"""One resource's attributes as Terraform's text plan shows them: `+ name = value` for a create,
`~ name = old -> new` for a change (`# forces replacement` after an attribute that forces a replacement),
`- name = old -> null` for a destroy, `(known after apply)` and `(sensitive value)` in place of values,
maps and lists over several lines with a symbol per element, nested blocks as `name { ... }`, and in an
update the unchanged attributes hidden behind a count (the `id` and `name` still shown to say which one).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
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
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        if '"' in value or "\\" in value or not value.isprintable():
            return json.dumps(value, ensure_ascii=False)
        return f'"{value}"'
    return json.dumps(to_json_value(value, KNOWN_AFTER), ensure_ascii=False, sort_keys=True)


_SCALARS: dict[tuple[type, Any], str] = {}  # the few non-string scalars a plan repeats (true, 22, unknown)


def _scalar_text(value: Any) -> str:
    """scalar(value), remembered for booleans, whole numbers, null and unknown (not strings: names are unique)."""
    t = type(value)
    if t is str or t is float:
        return scalar(value)
    key = (t, value)
    try:
        return _SCALARS[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (a set, say)
        return scalar(value)
    text = scalar(value)
    if len(_SCALARS) < 1024:
        _SCALARS[key] = text
    return text


def _multiline(value: Any) -> bool:
    return type(value) is str and "\n" in value.rstrip("\n")


def _text_lines(value: str | None) -> list[str]:
    if value is None:
        return []
    lines = value.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def heredoc(before: str | None, after: str | None, indent: str) -> list[str]:
    """The lines of a multi-line string between `<<-EOT` and `EOT`; for a change, line by line with `-`/`+`
    on the lines that differ, as Terraform shows a changed cloud-init `user_data`."""
    old, new = _text_lines(before), _text_lines(after)
    if before is None or after is None:
        return [f"{indent}      {line}".rstrip() for line in (new if before is None else old)]
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            out += [f"{indent}      {line}".rstrip() for line in old[i1:i2]]
            continue
        out += [f"{indent}    - {line}".rstrip() for line in old[i1:i2]]
        out += [f"{indent}    + {line}".rstrip() for line in new[j1:j2]]
    return out


_NESTED: dict[tuple[Any, ...], list[str]] = {}  # (place, frozen value) -> its lines; bounded by _NESTED_MAX
_NESTED_MAX = 4096
_LAYOUTS: dict[tuple[Any, ...], tuple[list[tuple[str, str]], list[str]]] = {}  # see Differ._layout
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _frozen(value: Any) -> tuple[Any, ...] | None:
    """A hashable stand-in for a map or list of plain values (types kept: True and 1 render differently), or
    None when it holds anything else (then it is rendered without the memo)."""
    t = type(value)
    if t is dict:
        out: list[Any] = [dict]
        for k, v in value.items():
            tv = type(v)
            if tv not in _PLAIN and v is not UNKNOWN:
                return None
            out += (k, tv, repr(v) if tv is float else v)  # -0.0 == 0.0, but they render differently
        return tuple(out)
    if t is list:
        out = [list]
        for v in value:
            tv = type(v)
            if tv not in _PLAIN and v is not UNKNOWN:
                return None
            out += (tv, repr(v) if tv is float else v)
        return tuple(out)
    if t is str:
        return (str, value)
    return None


def _remembered(place: tuple[Any, ...], value: Any, make: Callable[[], list[str]]) -> list[str]:
    """The lines `make` gives for `value` at `place`, made once per distinct value there (a value that cannot
    be frozen into a key is made every time)."""
    frozen = _frozen(value)
    if frozen is None:
        return make()
    key = (*place, frozen)
    lines = _NESTED.get(key)
    if lines is None:
        if len(_NESTED) >= _NESTED_MAX:
            _NESTED.clear()
        lines = _NESTED[key] = make()
    return lines


def _is_blocks(value: Any) -> bool:
    return type(value) is list and bool(value) and all(type(v) is dict for v in value)


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
        if self.show_all and (before is None) != (after is None):  # a create or a destroy: one side only
            side = after if before is None else before
            return self._one_side(dict(side or {}), indent, "+" if before is None else "-", top=True, quote=False)
        b = dict(before or {}) if before is not None else {}
        a = dict(after or {}) if after is not None else {}
        keys = sorted(set(b) | set(a))
        return self._members(keys, b if before is not None else {}, a if after is not None else {},
                             indent, top=True, missing_before=before is None, missing_after=after is None)

    def _members(self, keys: list[str], b: Mapping[str, Any], a: Mapping[str, Any], indent: str, *, top: bool,
                 missing_before: bool = False, missing_after: bool = False, quote: bool = False) -> list[str]:
        lines: list[str] = []
        hidden_attrs = hidden_blocks = 0
        shown = []
        blocks = []
        for k in keys:
            bv = ABSENT if missing_before else b.get(k, ABSENT)
            av = ABSENT if missing_after else a.get(k, ABSENT)
            if _is_blocks(bv) or _is_blocks(av):
                blocks.append((k, bv, av))
                continue
            if bv is ABSENT and av is None:
                continue  # an unset optional argument
            if not self.show_all and _symbol(bv, av) == " " and not (top and k in IDENTIFYING):
                hidden_attrs += 1
                continue
            shown.append((k, bv, av))
        width = max((len(self._key(k, quote)) for k, _, _ in shown), default=0)
        for k, bv, av in shown:
            lines += self._attribute(k, bv, av, indent, width, top, quote)
        for k, bv, av in blocks:
            bl = bv if isinstance(bv, list) else []
            al = av if isinstance(av, list) else []
            for i in range(max(len(bl), len(al))):
                bi = bl[i] if i < len(bl) else None
                ai = al[i] if i < len(al) else None
                sym = "+" if bi is None else "-" if ai is None else " " if bi == ai else "~"
                if sym == " " and not self.show_all:
                    hidden_blocks += 1
                    continue
                force = "  # forces replacement" if top and k in self.forces else ""
                lines.append(f"{indent}{sym} {k} {{{force}")
                lines += self._members(sorted(set(bi or ()) | set(ai or ())), bi or {}, ai or {}, indent + STEP,
                                       top=False, missing_before=bi is None, missing_after=ai is None)
                lines.append(f"{indent}  }}")
        if hidden_attrs:
            lines.append(f"{indent}  # ({hidden_attrs} unchanged attribute{'s' if hidden_attrs > 1 else ''} hidden)")
        if hidden_blocks:
            lines.append(f"{indent}  # ({hidden_blocks} unchanged block{'s' if hidden_blocks > 1 else ''} hidden)")
        return lines

    def _one_side(self, values: Mapping[str, Any], indent: str, sym: str, *, top: bool, quote: bool) -> list[str]:
        """Every attribute of an object that is created (`+`) or destroyed (`-`): the same lines as the
        general path gives, in one pass with the common cases inline (a 10,000-machine create plan is
        mostly this). A nested map, list or block of plain values is rendered once per distinct value and
        place (`_NESTED`): a fleet repeats the same labels, key lists and blocks thousands of times."""
        tail = " -> null" if sym == "-" and top else ""
        heads, block_keys = self._layout(values, indent, sym, quote)
        out: list[str] = []
        add = out.append
        for k, head in heads:
            v = values[k]
            tv = type(v)
            if top and k in self.sensitive:
                add(f"{head}{SENSITIVE}{tail}")
            elif tv is str and '"' not in v and "\\" not in v and v.isprintable():  # a plain one-line string
                add(f'{head}"{v}"{tail}')
            elif tv is dict or tv is list or _multiline(v):
                nested = self._nested(v, indent, sym, tail)
                add(head + nested[0])
                out += nested[1:]
            else:
                add(f"{head}{_scalar_text(v)}{tail}")
        for k in block_keys:
            for item in values[k]:
                out += self._nested_block(k, item, indent, sym)
        return out

    @staticmethod
    def _layout(values: Mapping[str, Any], indent: str, sym: str,
                quote: bool) -> tuple[list[tuple[str, str]], list[str]]:
        """(each shown attribute with its `  + name   = ` head, in name order; the nested block names): the
        same for every object with these names and the same kinds of values (`_LAYOUTS`), as a fleet's are."""
        kinds = []
        for v in values.values():
            if type(v) is list and v and type(v[0]) is dict and _is_blocks(v):
                kinds.append(2)  # nested blocks
            else:
                kinds.append(1 if v is not None or sym != "+" else 0)  # an unset optional argument: not shown
        key = (indent, sym, quote, tuple(values), tuple(kinds))
        found = _LAYOUTS.get(key)
        if found is None:
            names = sorted(k for k, kind in zip(values, kinds, strict=True) if kind == 1)
            shown = [json.dumps(k) for k in names] if quote else names
            width = max(map(len, shown), default=0)
            found = ([(k, f"{indent}{sym} {text.ljust(width)} = ") for k, text in zip(names, shown, strict=True)],
                     sorted(k for k, kind in zip(values, kinds, strict=True) if kind == 2))
            if len(_LAYOUTS) >= _NESTED_MAX:
                _LAYOUTS.clear()
            _LAYOUTS[key] = found
        return found

    def _nested(self, v: Any, indent: str, sym: str, tail: str) -> list[str]:
        """The lines of a map, list or multi-line string after `name = ` (the first completes that line)."""
        def make() -> list[str]:
            inner = indent + STEP
            if type(v) is dict:
                return ["{", *self._one_side(v, inner, sym, top=False, quote=True), f"{indent}  }}{tail}"]
            if type(v) is list:
                return ["[", *[f"{inner}{sym} {scalar(x)}," for x in v], f"{indent}  ]{tail}"]
            return ["<<-EOT", *(heredoc(None, v, indent) if sym == "+" else heredoc(v, None, indent)),
                    f"{indent}  EOT{tail}"]

        return _remembered((indent, sym, tail), v, make)

    def _nested_block(self, k: str, item: Mapping[str, Any], indent: str, sym: str) -> list[str]:
        return _remembered((k, indent, sym), item, lambda: [
            f"{indent}{sym} {k} {{", *self._one_side(item, indent + STEP, sym, top=False, quote=False),
            f"{indent}  }}"])

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
        if _multiline(bv) or _multiline(av):
            body = heredoc(bv if isinstance(bv, str) else None, av if isinstance(av, str) else None, indent)
            tail = " -> null" if sym == "-" and top else ""
            return [f"{indent}{sym} {name} = <<-EOT{force}", *body, f"{indent}  EOT{tail}"]
        if isinstance(bv, (dict, list)) or isinstance(av, (dict, list)):
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

        if fits(dict):
            bm: Mapping[str, Any] = bv if isinstance(bv, dict) else {}
            am: Mapping[str, Any] = av if isinstance(av, dict) else {}
            body = self._members(sorted(set(bm) | set(am)), bm, am, inner, top=False, quote=True,
                                 missing_before=not isinstance(bv, dict), missing_after=not isinstance(av, dict))
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
