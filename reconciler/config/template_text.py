"""Turn raw template text (a heredoc body, a Terraform JSON string) into an equivalent HCL quoted string.

HCL heredocs and Terraform JSON strings are templates whose literal text is taken as written, while a
quoted HCL string needs `\\`, `"` and newlines escaped. To parse such a template with python-hcl2 we
escape only the literal stretches and keep every `${...}` / `%{...}` sequence verbatim (its expression
may itself hold quoted strings, which must stay as they are). `$${` and `%%{` stay escapes in both worlds.
"""

from __future__ import annotations

_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


class UnterminatedTemplate(ValueError):
    """A `${` or `%{` sequence without its closing brace."""


def _skip_string(text: str, i: int) -> int:
    """`i` is just after an opening quote inside an expression; the index just after its closing quote."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c in "$%" and text.startswith("{", i + 1):
            i = skip_sequence(text, i + 2)
            continue
        if c in "$%" and text.startswith(c + "{", i + 1):  # $${ or %%{ escape inside a nested string
            i += 3
            continue
        i += 1
    raise UnterminatedTemplate("unterminated string in template expression")


def skip_sequence(text: str, i: int) -> int:
    """`i` is just after `${` or `%{`; the index just after the matching `}`."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _skip_string(text, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    raise UnterminatedTemplate("unterminated template sequence: a ${ or %{ is not closed")


def hcl_quoted(raw: str) -> str:
    """The HCL quoted-string spelling (with the quotes) of the raw template `raw`."""
    out: list[str] = ['"']
    i = 0
    start = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c in "$%" and i + 1 < n:
            nxt = raw[i + 1]
            if nxt == c and raw.startswith("{", i + 2):  # $${ / %%{: an escape, literal in both syntaxes
                i += 3
                continue
            if nxt == "{":
                out.append(raw[start:i].translate(_LITERAL_ESCAPES))
                end = skip_sequence(raw, i + 2)
                out.append(raw[i:end])
                i = start = end
                continue
        i += 1
    out.append(raw[start:].translate(_LITERAL_ESCAPES))
    out.append('"')
    return "".join(out)
