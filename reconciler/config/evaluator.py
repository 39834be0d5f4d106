"""Evaluate syntax-tree expressions to plain Python values, and list the static references they make.

`evaluate(expr, scope)` follows Terraform: values are None/bool/int/float/str/list/dict, UNKNOWN ("known
after apply") flows through operators, templates, traversals and functions, and every problem is a
ConfigError at the position of the expression that caused it. Root names (var, local, count, each, path,
resource types) come from the caller's Scope; for-expression and splat variables are bound here.
`references(expr)` is the static counterpart, used to build the dependency graph.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from reconciler.config import syntax as s
from reconciler.config.functions import call, lookup_function
from reconciler.config.functions_common import unify_with
from reconciler.config.operations import binary, condition, get_attr, index, unary
from reconciler.config.references import references
from reconciler.config.valueops import ValueProblem, describe, to_string
from reconciler.errors import ConfigError, ConfigErrors, SourcePos
from reconciler.values import UNKNOWN, is_known

__all__ = ["Scope", "evaluate", "references"]

_UNDEFINED_ROOT_MESSAGES = {"var": 'undefined variable "var.{}"', "local": 'undefined local value "local.{}"'}
_Env = dict[str, Any] | None


class Scope(Protocol):
    """What an expression can see: root names, and the directory `file()` reads relative to."""

    base_dir: Path

    def lookup(self, name: str, pos: SourcePos) -> Any:
        """The value of root name `name`; ConfigError if it is not defined here."""
        ...


def evaluate(expr: s.Expr, scope: Scope) -> Any:
    """The value of `expr` in `scope`; ConfigError (with the expression's position) on any problem."""
    if type(expr) is s.Literal:
        return expr.value
    return _Evaluator(scope).eval(expr, None)


def evaluate_collecting(expr: s.Expr, scope: Scope, errors: list[ConfigError]) -> Any:
    """evaluate(), with a configuration error collected into `errors` (the value is then UNKNOWN) instead of
    raised, so that one pass reports every broken attribute."""
    if type(expr) is s.Literal:
        return expr.value
    try:
        return evaluate(expr, scope)
    except ConfigErrors as e:
        errors.extend(e.errors)
    except ConfigError as e:
        errors.append(e)
    return UNKNOWN


class _Evaluator:
    __slots__ = ("scope",)

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def eval(self, expr: s.Expr, env: _Env) -> Any:
        return _TABLE[type(expr)](self, expr, env)

    @staticmethod
    def _fail(problem: ValueProblem, pos: SourcePos) -> ConfigError:
        return ConfigError(str(problem), pos)

    # ----------------------------------------------------------------------------------------- leaves
    def _literal(self, expr: s.Literal, env: _Env) -> Any:
        return expr.value

    def _scope_ref(self, expr: s.ScopeRef, env: _Env) -> Any:
        if env is not None and expr.name in env:
            return env[expr.name]
        return self.scope.lookup(expr.name, expr.pos)

    # -------------------------------------------------------------------------------------- templates
    def _template(self, expr: s.Expr, env: _Env) -> Any:
        out: list[str] = []
        unknown = self._render(expr, env, out)
        return UNKNOWN if unknown else "".join(out)

    def _render_parts(self, parts: tuple[s.Expr, ...], env: _Env, out: list[str]) -> bool:
        unknown = False
        for part in parts:
            if self._render(part, env, out):
                unknown = True
        return unknown

    def _render(self, expr: s.Expr, env: _Env, out: list[str]) -> bool:
        """Append the text of a template part to `out`; True if it is unknown."""
        if isinstance(expr, s.Template):
            return self._render_parts(expr.parts, env, out)
        if isinstance(expr, s.TemplateIf):
            try:
                test = condition(self.eval(expr.cond, env), "%{if} condition")
            except ValueProblem as e:
                raise self._fail(e, expr.cond.pos) from None
            if test is UNKNOWN:
                return True
            return self._render_parts(expr.then if test else expr.otherwise, env, out)
        if isinstance(expr, s.TemplateFor):
            coll = self.eval(expr.collection, env)
            if coll is UNKNOWN:
                return True
            unknown = False
            for key, value in self._items(coll, expr.collection.pos):
                inner = self._bind(env, expr.key_var, key, expr.value_var, value)
                unknown = self._render_parts(expr.body, inner, out) or unknown
            return unknown
        value = self.eval(expr, env)
        if value is UNKNOWN:
            return True
        if value is None:
            raise ConfigError("invalid template interpolation value: the value is null", expr.pos)
        if isinstance(value, (list, dict)):
            raise ConfigError(f"cannot include a {'list' if isinstance(value, list) else 'map'} in a string "
                              "template; a string is required", expr.pos,
                              hint="use join() for a list or jsonencode() for any value")
        out.append(to_string(value))
        return False

    # ------------------------------------------------------------------------------------- traversals
    def _get_attr(self, expr: s.GetAttr, env: _Env) -> Any:
        obj = self.eval(expr.obj, env)
        root = expr.obj
        if (isinstance(root, s.ScopeRef) and root.name in _UNDEFINED_ROOT_MESSAGES and isinstance(obj, dict)
                and expr.name not in obj and (env is None or root.name not in env)):
            raise ConfigError(_UNDEFINED_ROOT_MESSAGES[root.name].format(expr.name), expr.pos)
        try:
            return get_attr(obj, expr.name)
        except ValueProblem as e:
            raise self._fail(e, expr.pos) from None

    def _index(self, expr: s.Index, env: _Env) -> Any:
        obj = self.eval(expr.obj, env)
        key = self.eval(expr.key, env)
        try:
            return index(obj, key)
        except ValueProblem as e:
            raise self._fail(e, expr.pos) from None

    def _splat(self, expr: s.Splat, env: _Env) -> Any:
        obj = self.eval(expr.obj, env)
        if obj is UNKNOWN:
            return UNKNOWN
        if obj is None:
            return []
        items = obj if isinstance(obj, (list, tuple)) else [obj]
        return [self.eval(expr.each, self._bind(env, None, None, "__splat__", item)) for item in items]

    # ------------------------------------------------------------------------------------- operations
    def _call(self, expr: s.Call, env: _Env) -> Any:
        lookup_function(expr.name, expr.pos)
        if expr.name in ("try", "can") and not expr.expand_last:
            return self._try_or_can(expr, env)
        args = [self.eval(a, env) for a in expr.args]
        if expr.expand_last:
            if not args:
                raise ConfigError(f"{expr.name}(...): expanding (...) needs a last argument", expr.pos)
            last = args.pop()
            if last is UNKNOWN:
                return UNKNOWN
            if not isinstance(last, (list, tuple)):
                raise ConfigError(f"Invalid function argument: {expr.name}(): the argument expanded with ... "
                                  f"must be a list, got {describe(last)}", expr.pos)
            args.extend(last)
        return call(expr.name, args, expr.pos, self.scope.base_dir)

    def _try_or_can(self, expr: s.Call, env: _Env) -> Any:
        """try(): the first argument that evaluates without an error; can(): whether the one does."""
        if expr.name == "can" and len(expr.args) != 1:
            raise ConfigError(f"Invalid function argument: can() takes 1 argument, got {len(expr.args)}", expr.pos)
        for arg in expr.args:
            try:
                value = self.eval(arg, env)
            except ConfigError:
                continue
            if not is_known(value):
                return UNKNOWN
            return True if expr.name == "can" else value
        if expr.name == "can":
            return False
        raise ConfigError("Invalid function argument: try(): no expression succeeded", expr.pos,
                          hint="give a last argument that cannot fail, e.g. a literal default")

    def _conditional(self, expr: s.Conditional, env: _Env) -> Any:
        try:
            test = condition(self.eval(expr.cond, env))
        except ValueProblem as e:
            raise self._fail(e, expr.cond.pos) from None
        if test is UNKNOWN:
            return UNKNOWN
        chosen = self.eval(expr.then if test else expr.otherwise, env)
        if isinstance(chosen, (bool, int, float)) or (isinstance(chosen, (list, dict)) and chosen):
            # Terraform unifies both results' types: a number or bool next to a string becomes a string
            try:
                other = self.eval(expr.otherwise if test else expr.then, env)
            except ConfigError:
                return chosen
            return unify_with(chosen, other) if is_known(other) else chosen
        return chosen

    def _binary(self, expr: s.BinaryOp, env: _Env) -> Any:
        left = self.eval(expr.left, env)
        right = self.eval(expr.right, env)
        try:
            return binary(expr.op, left, right)
        except ValueProblem as e:
            raise self._fail(e, expr.pos) from None

    def _unary(self, expr: s.UnaryOp, env: _Env) -> Any:
        value = self.eval(expr.operand, env)
        try:
            return unary(expr.op, value)
        except ValueProblem as e:
            raise self._fail(e, expr.pos) from None

    # ------------------------------------------------------------------------------------ collections
    def _tuple(self, expr: s.TupleExpr, env: _Env) -> Any:
        return [self.eval(item, env) for item in expr.items]

    def _key(self, key: Any, pos: SourcePos) -> str | Any:
        if key is UNKNOWN:
            return UNKNOWN
        if key is None:
            raise ConfigError("an object key must not be null", pos)
        try:
            return to_string(key)
        except ValueProblem:
            raise ConfigError(f"an object key must be a string, got {describe(key)}", pos) from None

    def _object(self, expr: s.ObjectExpr, env: _Env) -> Any:
        out: dict[str, Any] = {}
        unknown = False
        for key_expr, value_expr in expr.items:
            if type(key_expr) is s.Literal and type(key_expr.value) is str:
                key = key_expr.value
            else:
                key = self._key(self.eval(key_expr, env), key_expr.pos)
            value = self.eval(value_expr, env)
            if key is UNKNOWN:
                unknown = True
                continue
            if key in out:
                raise ConfigError(f'duplicate key "{key}" in object', key_expr.pos)
            out[key] = value
        return UNKNOWN if unknown else out

    @staticmethod
    def _bind(env: _Env, key_var: str | None, key: Any, value_var: str, value: Any) -> dict[str, Any]:
        inner = dict(env) if env else {}
        if key_var is not None:
            inner[key_var] = key
        inner[value_var] = value
        return inner

    def _items(self, coll: Any, pos: SourcePos) -> list[tuple[Any, Any]]:
        if isinstance(coll, (list, tuple)):
            return list(enumerate(coll))
        if isinstance(coll, dict):
            return [(k, coll[k]) for k in sorted(coll)]
        if coll is None:
            raise ConfigError("cannot iterate over a null value", pos)
        raise ConfigError(f"a for expression needs a list or a map, got {describe(coll)}", pos)

    def _for(self, expr: s.ForExpr, env: _Env) -> Any:
        coll = self.eval(expr.collection, env)
        if coll is UNKNOWN:
            return UNKNOWN
        unknown = False
        items: list[Any] = []
        grouped: dict[str, Any] = {}
        for k, v in self._items(coll, expr.collection.pos):
            inner = self._bind(env, expr.key_var, k, expr.value_var, v)
            if expr.cond is not None:
                try:
                    keep = condition(self.eval(expr.cond, inner), "for expression's if condition")
                except ValueProblem as e:
                    raise self._fail(e, expr.cond.pos) from None
                if keep is UNKNOWN:
                    unknown = True
                    continue
                if not keep:
                    continue
            if expr.key_expr is None:
                items.append(self.eval(expr.value_expr, inner))
                continue
            key = self._key(self.eval(expr.key_expr, inner), expr.key_expr.pos)
            value = self.eval(expr.value_expr, inner)
            if key is UNKNOWN:
                unknown = True
            elif expr.grouping:
                grouped.setdefault(key, []).append(value)
            elif key in grouped:
                raise ConfigError(f'duplicate key "{key}" in for expression', expr.key_expr.pos,
                                  hint="add ... after the value expression to group values by key")
            else:
                grouped[key] = value
        if unknown:
            return UNKNOWN
        return items if expr.key_expr is None else grouped


_TABLE: dict[type, Callable[[_Evaluator, Any, _Env], Any]] = {
    s.Literal: _Evaluator._literal, s.Template: _Evaluator._template, s.ScopeRef: _Evaluator._scope_ref,
    s.GetAttr: _Evaluator._get_attr, s.Index: _Evaluator._index, s.Splat: _Evaluator._splat,
    s.Call: _Evaluator._call, s.Conditional: _Evaluator._conditional, s.BinaryOp: _Evaluator._binary,
    s.UnaryOp: _Evaluator._unary, s.TupleExpr: _Evaluator._tuple, s.ObjectExpr: _Evaluator._object,
    s.ForExpr: _Evaluator._for, s.TemplateIf: _Evaluator._template, s.TemplateFor: _Evaluator._template,
}
