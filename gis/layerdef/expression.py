"""The small expression language of delivery profiles' derived fields.

An expression is a Python *expression* read by ``ast.parse`` and accepted only when every node
is on a short whitelist; it is then compiled into closures over one source row. Nothing is ever
passed to ``eval``: there are no attributes, subscripts, lambdas or comprehensions, and only
the functions in ``FUNCTIONS``. Length, depth and size are bounded.

    "phuong" if startswith(TEN, "Phường") else "xa" if startswith(TEN, "Xã") else None
    concat(SoNha, " ", TenDuong)          int(SO_TO) * 1000 + int(SO_THUA)

Names are source fields as the delivery names them (``field("Tên đường")`` for names that
are not identifiers). Empty values are ``None``: a text function of ``None`` is ``None``,
a test of ``None`` is false, ``concat`` and ``coalesce`` skip it.
"""

from __future__ import annotations

import ast
import math
import operator
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 1000  # characters of one expression
MAX_DEPTH = 24  # nesting of nodes
MAX_NODES = 300
MAX_INT = 2**53  # whole numbers a float holds exactly (and a bigint column)

Row = dict[str, Any]
Fn = Callable[[Row], Any]


class ExpressionError(ValueError):
    """A malformed expression (at definition time)."""


class EvaluationError(ValueError):
    """A value the expression cannot work with (at load: the row is rejected)."""


def _empty(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return unicodedata.normalize("NFC", str(v))


def _number(v: Any, kind: str = "number"):
    if _empty(v):
        return None
    if isinstance(v, bool):
        raise EvaluationError(f"{kind}({v!r}): not a number")
    if isinstance(v, int | float):
        n = float(v)
    else:
        try:
            n = float(str(v).strip().replace(",", "."))
        except ValueError:
            raise EvaluationError(f"{kind}({_text(v)!r}): not a number") from None
    if not math.isfinite(n):
        raise EvaluationError(f"{kind}({_text(v)!r}): not a finite number")
    if kind == "int":
        if not n.is_integer():
            raise EvaluationError(f"int({_text(v)!r}): not a whole number")
        if abs(n) > MAX_INT:
            raise EvaluationError(f"int({_text(v)!r}): too large")
        return int(n)
    return n


def _tests(name: str, test: Callable[[str, str], bool]):
    def fn(value, *options):
        if _empty(value):
            return False
        text = _text(value).strip()
        return any(test(text, _text(o)) for o in options)
    fn.__name__ = name
    return fn


def _textfn(f: Callable[..., str]):
    def fn(value, *args):
        return None if _empty(value) else f(_text(value), *map(_text, args))
    return fn


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _concat(*values):
    return "".join(_text(v) for v in values if not _missing(v))  # " " separators are kept


def _coalesce(*values):
    return next((v for v in values if not _empty(v)), None)


# name -> (function, smallest and largest argument count)
FUNCTIONS: dict[str, tuple[Callable, int, int]] = {
    "startswith": (_tests("startswith", str.startswith), 2, 20),
    "endswith": (_tests("endswith", str.endswith), 2, 20),
    "contains": (_tests("contains", lambda t, o: o in t), 2, 20),
    "concat": (_concat, 1, 20),
    "coalesce": (_coalesce, 1, 20),
    "strip": (_textfn(str.strip), 1, 1),
    "lower": (_textfn(str.lower), 1, 1),
    "upper": (_textfn(str.upper), 1, 1),
    "removeprefix": (_textfn(lambda t, p: t.strip().removeprefix(p).strip()), 2, 2),
    "removesuffix": (_textfn(lambda t, p: t.strip().removesuffix(p).strip()), 2, 2),
    "replace": (_textfn(str.replace), 3, 3),
    "text": (lambda v: None if _empty(v) else _text(v), 1, 1),
    "int": (lambda v: _number(v, "int"), 1, 1),
    "number": (lambda v: _number(v, "number"), 1, 1),
}
FUNCTIONS["float"] = FUNCTIONS["number"]

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, the source fields it reads, and its compiled form."""

    text: str
    fields: tuple[str, ...]
    _fn: Fn

    def __call__(self, row: Row) -> Any:
        return self._fn(row)


def _where(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" (at character {col + 1})" if col is not None else ""


class _Compiler:
    def __init__(self):
        self.fields: list[str] = []
        self.nodes = 0

    def compile(self, node: ast.AST, depth: int = 0) -> Fn:
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep; split it up")
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"more than {MAX_NODES} parts; keep expressions short")
        handler = getattr(self, "_" + type(node).__name__, None)
        if handler is None:
            raise ExpressionError(f"{_describe(node)} is not allowed{_where(node)}; use "
                                  "field names, text and numbers, + - * /, comparisons, "
                                  "and/or/not, `a if test else b` and the functions "
                                  f"{', '.join(sorted(FUNCTIONS))}")
        return handler(node, depth + 1)

    def _Constant(self, node: ast.Constant, depth: int) -> Fn:
        value = node.value
        if not (value is None or isinstance(value, str | int | float)):
            raise ExpressionError(f"the constant {value!r} is not allowed{_where(node)}")
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value)
        return lambda row: value

    def _name(self, name: str) -> Fn:
        if name not in self.fields:
            self.fields.append(name)
        return lambda row: row.get(name)

    def _Name(self, node: ast.Name, depth: int) -> Fn:
        if node.id in ("True", "False", "None"):  # not reached on Python 3.8+, kept explicit
            return self._Constant(ast.Constant({"True": True, "False": False}.get(node.id)),
                                  depth)
        if node.id in FUNCTIONS or node.id == "field":
            raise ExpressionError(f"{node.id} is a function: call it, {node.id}(...)"
                                  f"{_where(node)}")
        return self._name(node.id)

    def _Call(self, node: ast.Call, depth: int) -> Fn:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"only the functions {', '.join(sorted(FUNCTIONS))} can be "
                                  f"called (no methods){_where(node)}")
        name = node.func.id
        if node.keywords:
            raise ExpressionError(f"{name}(): keyword arguments are not allowed{_where(node)}")
        if name == "field":
            if len(node.args) != 1 or not (isinstance(node.args[0], ast.Constant)
                                           and isinstance(node.args[0].value, str)):
                raise ExpressionError(f'field() takes one quoted field name, e.g. '
                                      f'field("Tên đường"){_where(node)}')
            return self._name(node.args[0].value)
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name}(){_where(node)}; the functions "
                                  f"are {', '.join(sorted([*FUNCTIONS, 'field']))}")
        fn, low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            raise ExpressionError(f"{name}() takes {count} arguments, not {len(node.args)}"
                                  f"{_where(node)}")
        args = [self.compile(a, depth) for a in node.args]
        return lambda row: fn(*(a(row) for a in args))

    def _IfExp(self, node: ast.IfExp, depth: int) -> Fn:
        test, yes, no = (self.compile(n, depth) for n in (node.test, node.body, node.orelse))
        return lambda row: yes(row) if _truth(test(row)) else no(row)

    def _BoolOp(self, node: ast.BoolOp, depth: int) -> Fn:
        parts = [self.compile(v, depth) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda row: all(_truth(p(row)) for p in parts)
        return lambda row: any(_truth(p(row)) for p in parts)

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> Fn:
        inner = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return lambda row: not _truth(inner(row))
        if isinstance(node.op, ast.USub):
            return lambda row: None if (v := _number(inner(row))) is None else -v
        raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed"
                              f"{_where(node)}")

    def _BinOp(self, node: ast.BinOp, depth: int) -> Fn:
        op = _ARITH.get(type(node.op))
        if op is None:
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed "
                                  f"(only + - * /){_where(node)}")
        left, right = self.compile(node.left, depth), self.compile(node.right, depth)
        plus = isinstance(node.op, ast.Add)

        def fn(row):
            a, b = left(row), right(row)
            if _empty(a) or _empty(b):
                return None
            if plus and (isinstance(a, str) or isinstance(b, str)):
                return _text(a) + _text(b)  # + joins text
            x, y = _number(a), _number(b)
            if op is operator.truediv and y == 0:
                raise EvaluationError(f"{_text(a)} / 0: division by zero")
            result = op(x, y)
            if not math.isfinite(result) or (isinstance(result, int) and abs(result) > MAX_INT):
                raise EvaluationError(f"{_text(a)} {_SYMBOL[type(node.op)]} {_text(b)}: the "
                                      "result is too large")
            return result
        return fn

    def _Compare(self, node: ast.Compare, depth: int) -> Fn:
        left = self.compile(node.left, depth)
        steps = []
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right, ast.Tuple | ast.List):
                    raise ExpressionError(f"`in` takes a list of values, e.g. x in (\"P\", "
                                          f"\"Phường\"){_where(node)}")
                options = [self.compile(e, depth) for e in right.elts]
                steps.append((op, options))
            elif type(op) in _COMPARE:
                steps.append((op, self.compile(right, depth)))
            else:
                raise ExpressionError(f"the comparison {type(op).__name__} is not allowed"
                                      f"{_where(node)}")

        def fn(row):
            a = left(row)
            for op, right in steps:
                if isinstance(op, ast.In | ast.NotIn):
                    found = not _empty(a) and any(_same(a, o(row)) for o in right)
                    if found == isinstance(op, ast.NotIn):
                        return False
                    continue
                b = right(row)
                if _empty(a) or _empty(b):
                    return False
                if isinstance(op, ast.Eq | ast.NotEq):
                    if _same(a, b) != isinstance(op, ast.Eq):
                        return False
                else:
                    try:
                        ok = _COMPARE[type(op)](_number(a), _number(b))
                    except EvaluationError:
                        ok = _COMPARE[type(op)](_text(a), _text(b))
                    if not ok:
                        return False
                a = b
            return True
        return fn


def _same(a: Any, b: Any) -> bool:
    if _empty(a) or _empty(b):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return _text(a).strip() == _text(b).strip()
    return a == b


def _truth(v: Any) -> bool:
    return bool(v) and not _empty(v)


def _describe(node: ast.AST) -> str:
    names = {"Attribute": "an attribute or method (x.y)", "Subscript": "indexing (x[...])",
             "Lambda": "lambda", "ListComp": "a comprehension", "GeneratorExp": "a generator",
             "NamedExpr": "an assignment (:=)", "Await": "await", "JoinedStr": "an f-string",
             "Starred": "*args", "Dict": "a mapping", "Set": "a set"}
    return names.get(type(node).__name__, type(node).__name__)


def parse_expression(text: str) -> Expression:
    """Check and compile an expression; ExpressionError says what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters; keep expressions short")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" (at character {exc.offset})" if exc.offset else ""
        raise ExpressionError(f"not a valid expression: {exc.msg}{where}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ExpressionError(f"not a valid expression: {type(exc).__name__}") from None
    compiler = _Compiler()
    fn = compiler.compile(tree.body)
    return Expression(text, tuple(compiler.fields), fn)
