"""The static references of an expression: `root` plus the attribute names and literal keys after it.

`hcloud_server.web["a"].ipv4_address` gives Reference("hcloud_server", ("web", "a", "ipv4_address")).
A chain stops at the first dynamic index or splat (the index's own references are listed separately);
names bound by for-expressions and splats are not references. Used to build the dependency graph, so it
is a plain recursive walk with no evaluation.
"""

from __future__ import annotations

from reconciler.config import syntax as s

_Bound = frozenset[str]


def references(expr: s.Expr) -> list[s.Reference]:
    """Every static reference in `expr`, in source order (a reference used twice is listed twice)."""
    out: list[s.Reference] = []
    _walk(expr, frozenset(), out)
    return out


def _chain(expr: s.Expr, bound: _Bound, out: list[s.Reference]) -> bool:
    """If `expr` is a traversal from a free root name, record it and return True."""
    steps: list[str | int] = []
    dynamic: list[s.Expr] = []
    node = expr
    while True:
        t = type(node)
        if t is s.GetAttr:
            assert isinstance(node, s.GetAttr)
            steps.append(node.name)
            node = node.obj
        elif t is s.Index:
            assert isinstance(node, s.Index)
            key = node.key
            if type(key) is s.Literal and isinstance(key.value, (str, int)) and not isinstance(key.value, bool):
                steps.append(key.value)
            else:  # a dynamic index ends the static part: keep what is before it, walk the key
                dynamic.append(key)
                steps.clear()
            node = node.obj
        else:
            break
    if type(node) is not s.ScopeRef:
        return False
    assert isinstance(node, s.ScopeRef)
    if node.name not in bound:
        steps.reverse()
        out.append(s.Reference(node.name, tuple(steps), expr.pos))
    for key in reversed(dynamic):
        _walk(key, bound, out)
    return True


def _walk(expr: s.Expr, bound: _Bound, out: list[s.Reference]) -> None:
    t = type(expr)
    if t is s.Literal:
        return
    if t is s.ScopeRef or t is s.GetAttr or t is s.Index:
        if _chain(expr, bound, out):
            return
        if isinstance(expr, s.GetAttr):
            _walk(expr.obj, bound, out)
        elif isinstance(expr, s.Index):
            _walk(expr.obj, bound, out)
            _walk(expr.key, bound, out)
        return
    if isinstance(expr, s.Template):
        for part in expr.parts:
            _walk(part, bound, out)
    elif isinstance(expr, s.TemplateIf):
        _walk(expr.cond, bound, out)
        for part in (*expr.then, *expr.otherwise):
            _walk(part, bound, out)
    elif isinstance(expr, s.TemplateFor):
        _walk(expr.collection, bound, out)
        inner = bound | {expr.value_var, *([expr.key_var] if expr.key_var else [])}
        for part in expr.body:
            _walk(part, inner, out)
    elif isinstance(expr, s.Splat):
        _walk(expr.obj, bound, out)
        _walk(expr.each, bound | {"__splat__"}, out)
    elif isinstance(expr, s.Call):
        for arg in expr.args:
            _walk(arg, bound, out)
    elif isinstance(expr, s.Conditional):
        _walk(expr.cond, bound, out)
        _walk(expr.then, bound, out)
        _walk(expr.otherwise, bound, out)
    elif isinstance(expr, s.BinaryOp):
        _walk(expr.left, bound, out)
        _walk(expr.right, bound, out)
    elif isinstance(expr, s.UnaryOp):
        _walk(expr.operand, bound, out)
    elif isinstance(expr, s.TupleExpr):
        for item in expr.items:
            _walk(item, bound, out)
    elif isinstance(expr, s.ObjectExpr):
        for key, value in expr.items:
            _walk(key, bound, out)
            _walk(value, bound, out)
    elif isinstance(expr, s.ForExpr):
        _walk(expr.collection, bound, out)
        inner = bound | {expr.value_var, *([expr.key_var] if expr.key_var else [])}
        for maybe in (expr.key_expr, expr.value_expr, expr.cond):
            if maybe is not None:
                _walk(maybe, inner, out)
