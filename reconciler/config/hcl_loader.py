"""Load `*.tf` files (HCL native syntax) and standalone expressions into the shared syntax tree.

Parsing is python-hcl2's LALR grammar (`hcl2.parses_to_tree`); hcl_lower turns its Lark tree into
syntax nodes. Lark's exceptions become one-line ConfigErrors with the file and line. Expressions and
templates that arrive as text (`--var` values, Terraform JSON strings) are parsed here too, with their
Lark trees cached by text so that a file repeating the same template parses it once. A whole file's tree
is also kept between runs (reconciler.config.parse_cache), so python-hcl2 and Lark, imported only when a
text must really be parsed, cost nothing when the files have not changed.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.config import parse_cache
from reconciler.config import syntax as s
from reconciler.config.gcpause import gc_paused
from reconciler.config.limits import nesting_error
from reconciler.errors import ConfigError, SourcePos

if TYPE_CHECKING:
    from lark import Token, Tree
    from lark.exceptions import LarkError

_TERMINALS = {
    "RBRACE": "}", "LBRACE": "{", "RSQB": "]", "LSQB": "[", "RPAR": ")", "LPAR": "(", "EQ": "=", "COMMA": ",",
    "COLON": ":", "DOT": ".", "DBLQUOTE": '"', "QMARK": "?", "NL_OR_COMMENT": "a new line", "NAME": "a name",
    "FOR_OBJECT_ARROW": "=>", "ELLIPSIS": "...", "INTERP_START": "${", "DIRECTIVE_START": "%{",
}


def _token_text(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "NL_OR_COMMENT":
        return "new line"
    text = str(token).strip()
    if not text:
        return "new line"
    word = text.split()[0]
    return f'"{word[:20]}"'


def _expected_hint(expected: set[str]) -> str | None:
    names = sorted(_TERMINALS[e] for e in expected if e in _TERMINALS)
    if not names or len(names) != len(expected) or len(names) > 3:
        return None
    return "expected " + " or ".join(f'"{n}"' if len(n) <= 3 else n for n in names)


def syntax_error(e: LarkError, file: str, text: str | None = None) -> ConfigError:
    """A one-line ConfigError for a Lark parse error in `text`."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    line = getattr(e, "line", None) or 1
    if isinstance(e, UnexpectedToken):
        message = f"syntax error: unexpected {_token_text(e.token)}"
        hint = _expected_hint(set(e.expected))
        expected = set(e.expected)
        header = "LBRACE" in expected and not expected & {"LPAR", "LSQB", "INT_LITERAL"}  # not an expression
        if text is not None and e.token.start_pos is not None and (header or e.token.type == "$END"):
            # the grammar lets a block header continue on the next line, so a missing "=" or "{" (or an
            # unclosed block) shows at a later token; the mistake is on the last line with text before it
            before = text[: e.token.start_pos].rstrip()
            line = min(line, before.count("\n") + 1)
        if header:
            message, hint = 'syntax error: expected "=" (for an argument) or "{" (for a block)', None
        elif e.token.type == "$END":
            hint = "a block, bracket or string is not closed"
    elif isinstance(e, UnexpectedCharacters):
        message = f'syntax error: unexpected character "{e.char}"'
        hint = None
    elif isinstance(e, UnexpectedEOF):
        message, hint = "syntax error: unexpected end of file", "a block, bracket or string is not closed"
    elif isinstance(e, UnexpectedInput):
        message, hint = "syntax error", None
    else:
        message, hint = f"syntax error: {str(e).splitlines()[0]}", None
    return ConfigError(message, SourcePos(file, max(1, line)), hint=hint)


def _parse(text: str) -> Tree:
    import hcl2

    return hcl2.parses_to_tree(text)


@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str) -> Tree | LarkError:
    from lark.exceptions import LarkError

    try:
        return _parse(text)
    except LarkError as e:
        return e


def _attribute_value_tree(text: str, pos: SourcePos, what: str) -> Tree:
    """The expression tree of `x = <text>` (parsed once per distinct text)."""
    from lark import Tree
    from lark.exceptions import LarkError

    result = _parse_cached(f"x = {text}\n")
    if isinstance(result, LarkError):
        err = syntax_error(result, pos.file)
        raise ConfigError(f"{err.message} in {what}", pos, hint=err.hint)
    body = result.children[0]
    assert isinstance(body, Tree)
    attrs = [c for c in body.children if isinstance(c, Tree) and c.data in ("attribute", "block")]
    if len(attrs) != 1 or attrs[0].data != "attribute":
        raise ConfigError(f"syntax error: {what} is not a single expression", pos)
    value = [c for c in attrs[0].children if isinstance(c, Tree)][-1]
    return value


def _template_tree(quoted: str, pos: SourcePos) -> Tree:
    return _attribute_value_tree(quoted, pos, "template")


def parse_expression(text: str, pos: SourcePos) -> s.Expr:
    """Parse one standalone expression (e.g. a `--var` value); every node gets `pos`."""
    from reconciler.config.hcl_lower import Lowerer

    tree = _attribute_value_tree(text, pos, "expression")
    return Lowerer(pos.file, _template_tree, fixed=pos).expr(tree)


def parse_quoted_template(quoted: str, pos: SourcePos) -> s.Expr:
    """Parse raw template text turned into an HCL quoted string by template_text.hcl_quoted (a Terraform
    JSON string, a template file) as a template; every node gets `pos`."""
    from reconciler.config.hcl_lower import Lowerer

    tree = _template_tree(quoted, pos)
    return Lowerer(pos.file, _template_tree, fixed=pos, raw_text=True).expr(tree)


def load_hcl_text(text: str, display: str) -> s.SourceFile:
    """Parse the text of a `.tf` (or `.tfvars`) file shown to users as `display`."""
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    cached = parse_cache.get(display, text)
    if cached is not None:
        return cached
    too_deep = nesting_error(text, display)
    if too_deep is not None:
        raise too_deep
    from lark import Tree
    from lark.exceptions import LarkError

    from reconciler.config.hcl_lower import Lowerer

    with gc_paused():
        try:
            tree = _parse(text)
            body_tree = tree.children[0]
            assert isinstance(body_tree, Tree)
            body = Lowerer(display, _template_tree).body(body_tree, SourcePos(display, 1))
        except LarkError as e:
            raise syntax_error(e, display, text) from None
        except RecursionError:  # e.g. a chain of thousands of operators, which no bracket count sees
            raise ConfigError("an expression nests too deeply to follow", SourcePos(display, 1),
                              hint="split it into locals") from None
    parsed = s.SourceFile(display, body, text)
    parse_cache.put(display, text, parsed)
    return parsed


def load_hcl_file(path: Path, display: str) -> s.SourceFile:
    """Read and parse a `.tf` file; `display` is the name put in positions (e.g. "main.tf")."""
    from reconciler.config.loader import read_source

    return load_hcl_text(read_source(path, display), display)
