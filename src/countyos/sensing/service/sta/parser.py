"""The OData expression language of SensorThings ``$filter`` and ``$orderby``, parsed into a small AST.

Expressions are tokenized and parsed by `odata-query` (an LALR parser, built with SLY, of the common
expressions of the OData v4 ABNF); its AST is translated here into the nodes below, which
:mod:`countyos.sensing.service.sta.sql` turns into SQL. Nothing is evaluated in Python.

The library covers the OData grammar; SensorThings 1.1 needs a few extensions, made here and only
here, by subclassing its lexer and its parser's function hook:

* ``geometry'…'`` literals beside OData's ``geography'…'`` (SensorThings clients send both);
* ``@iot.id`` as a property name (the SensorThings name of ``id``);
* the SensorThings spatial functions ``st_equals`` … ``st_relate`` and OData 3's ``substringof``
  (SensorThings 1.1, table "built-in filter operations"): the library refuses functions outside
  OData 4's list, so its function check is replaced by ours (``sql.FUNCTIONS``, which also checks
  the number of arguments and their kinds);
* ``not(…)`` without a space, keywords (``any``, ``all``, ``null``, ``true``, ``false``) only as
  whole words (the library would split ``properties/allowed`` into ``all`` + ``owed``), and
  date-times without seconds (``2026-05-01T08:00Z``).

The query-option syntax around expressions (``$orderby``'s list with ``asc``/``desc``, ``$expand``'s
``Nav(option=…;…)``) is not part of the library; :func:`split_top_level` splits it.

Hostile input is bounded before anything recurses over it: the nesting of parentheses, the depth of
the expression (a chain of ``and`` or of ``or`` counts once) and its number of nodes. Past a bound
the answer is a :class:`StaQueryError` (a 400 naming the bound), never a ``RecursionError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from odata_query import ast as o
from odata_query import exceptions as oe
from odata_query.grammar import ODataLexer, ODataParser

from countyos.sensing.service.times import parse_iso

MAX_PARENTHESES = 32  # nesting of ( ) in one expression
MAX_DEPTH = 32  # nesting of operators and calls (a chain of and/or counts once)
MAX_NODES = 1_000  # values, names, operators and calls of one expression
MAX_PATH = 16  # segments of one property path (Datastream/Thing/properties/…)
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_PATH = re.compile(r"[\w.@]+(?:\s*/\s*[\w.@]+)+")
_INT64 = 2**63 - 1


class StaQueryError(ValueError):
    """A malformed query option; the message names the problem (becomes a 400)."""


@dataclass(frozen=True)
class Lit:
    value: Any
    kind: str  # num | str | bool | null | time | geo | duration


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Junction:
    """``a and b and c`` (or ``or``) as one flat node: long chains never nest."""

    op: str  # and | or
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


Node = Lit | Path | Call | BinOp | Junction | Not | Neg

COMPARISON = ("eq", "ne", "gt", "ge", "lt", "le")
_COMPARATORS: dict[type, str] = {o.Eq: "eq", o.NotEq: "ne", o.Gt: "gt", o.GtE: "ge", o.Lt: "lt", o.LtE: "le"}
_ARITHMETIC: dict[type, str] = {o.Add: "add", o.Sub: "sub", o.Mult: "mul", o.Div: "div", o.Mod: "mod"}
_OPERATOR_WORDS = {"and", "or", "not", "add", "sub", "mul", "div", "mod", "in", *COMPARISON}
_DATE = r"[1-9]\d{3}-(?:0\d|1[0-2])-(?:[0-2]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,12})?)?"


def _token(pattern: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A token rule of a SLY lexer: what SLY's own ``@_`` decorator does (the rule's ``pattern``)."""

    def rule(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.pattern = pattern  # type: ignore[attr-defined]
        return fn

    return rule


class _Lexer(ODataLexer):
    """OData's lexer with the SensorThings extensions (see the module docstring)."""

    tokens = ODataLexer.tokens

    @_token(r"(?:geography|geometry)'(?:[^']|'')*'")
    def GEOGRAPHY(self, t: Any) -> Any:
        t.value = o.Geography(t.value[t.value.index("'") + 1 : -1])
        return t

    @_token(_DATE + r"T" + _TIME + r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?")
    def DATETIME(self, t: Any) -> Any:
        t.value = o.DateTime(t.value)
        return t

    @_token(r"(?:true|false)(?![\w.@])")
    def BOOLEAN(self, t: Any) -> Any:
        t.value = o.Boolean(t.value)
        return t

    @_token(r"null(?![\w.@])")
    def NULL(self, t: Any) -> Any:
        t.value = o.Null()
        return t

    @_token(r"not(?:\s+|(?=\())")
    def NOT(self, t: Any) -> Any:
        t.value = o.Not()
        return t

    @_token(r"any(?=\s*\()")
    def ANY(self, t: Any) -> Any:
        t.value = o.Any()
        return t

    @_token(r"all(?=\s*\()")
    def ALL(self, t: Any) -> Any:
        t.value = o.All()
        return t

    @_token(r"(?:@iot\.)?[_a-z](?:\.?\w){0,127}")
    def ODATA_IDENTIFIER(self, t: Any) -> Any:
        if t.value.lower().startswith("@iot."):
            t.value = o.Identifier(t.value)
            return t
        *ns, identifier = t.value.split(".")
        t.value = o.Identifier(identifier, tuple(ns))
        return t


class _Parser(ODataParser):
    """OData's grammar as built by the library, with the function check left to ``sql.FUNCTIONS``."""

    @classmethod
    def _build(cls, definitions: Any) -> None:  # the grammar tables are the library's, built once
        return None

    def _function_call(self, func: o.Identifier, args: list[Any]) -> o.Call:
        return o.Call(func, args)


def _check_parentheses(text: str, option: str) -> None:
    depth, quote = 0, False
    for ch in text:
        if ch == "'":
            quote = not quote
        elif quote:
            continue
        elif ch == "(":
            depth += 1
            if depth > MAX_PARENTHESES:
                raise StaQueryError(f"{option}: parentheses may nest at most {MAX_PARENTHESES} deep")
        elif ch == ")":
            depth -= 1


def _check_paths(text: str, option: str) -> None:
    """The library nests (and walks recursively) one node per path segment: bound them first."""
    for path in _PATH.findall(_QUOTED.sub("''", text)):
        if path.count("/") >= MAX_PATH:
            raise StaQueryError(f"{option}: a property path may have at most {MAX_PATH} segments")


def _children(node: Any) -> list[Any]:
    if isinstance(node, o.BoolOp | o.BinOp | o.Compare):
        return [node.left, node.right]
    if isinstance(node, o.UnaryOp):
        return [node.operand]
    if isinstance(node, o.Call):
        return list(node.args)
    if isinstance(node, o.Attribute):
        return [node.owner]
    if isinstance(node, o.List):
        return list(node.val)
    if isinstance(node, o.NamedParam):
        return [node.param]
    if isinstance(node, o.CollectionLambda):
        return [node.owner] + ([node.lambda_.expression] if node.lambda_ is not None else [])
    return []


def _check_size(root: Any, option: str) -> None:
    """Depth and node count of the library's AST, walked without recursion."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise StaQueryError(f"{option}: an expression may have at most {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise StaQueryError(f"{option}: an expression may nest at most {MAX_DEPTH} operators or calls deep")
        for child in _children(node):
            same_chain = isinstance(node, o.BoolOp) and isinstance(child, o.BoolOp) and type(child.op) is type(node.op)
            stack.append((child, depth if same_chain else depth + 1))


def _syntax_error(text: str, option: str, exc: oe.ODataSyntaxError) -> StaQueryError:
    token = getattr(exc, "token", None)
    index = getattr(token, "index", None)
    if isinstance(exc, oe.TokenizingException) and index is not None:
        return StaQueryError(f"{option}: unexpected character {text[index]!r} at position {index}")
    rest = text[index:].strip() if index is not None else ""
    if index is None or rest.lower() in _OPERATOR_WORDS:
        after = f" after {rest!r}" if rest else ""
        return StaQueryError(f"{option}: the expression ends too early: expected a value{after} at the end")
    return StaQueryError(f"{option}: unexpected {rest[:30]!r} at position {index}")


def parse_expression(text: str, option: str = "$filter") -> Node:
    """One OData common expression → :data:`Node` (bounded, see the module docstring)."""
    if not text.strip():
        raise StaQueryError(f"{option} is empty")
    _check_parentheses(text, option)
    _check_paths(text, option)
    try:
        tree = _Parser().parse(_Lexer().tokenize(text))
    except oe.ODataSyntaxError as exc:
        raise _syntax_error(text, option, exc) from exc
    except oe.ODataException as exc:
        raise StaQueryError(f"{option}: {exc}") from exc
    except RecursionError as exc:  # the checks above keep this from happening; a 400 if it still does
        raise StaQueryError(f"{option}: the expression nests too deeply") from exc
    if tree is None:
        raise StaQueryError(f"{option} is empty")
    _check_size(tree, option)
    return _Translate(option).node(tree)


def _dotted(ident: o.Identifier) -> str:
    return ".".join((*ident.namespace, ident.name))


class _Translate:
    """The library's AST → ours (recursion is bounded by :func:`_check_size`)."""

    def __init__(self, option: str) -> None:
        self.option = option

    def fail(self, message: str) -> StaQueryError:
        return StaQueryError(f"{self.option}: {message}")

    def node(self, n: Any) -> Node:
        if isinstance(n, o.BoolOp):
            return self.junction(n)
        if isinstance(n, o.Compare):
            if isinstance(n.comparator, o.In):
                if not isinstance(n.right, o.List):
                    raise self.fail("'in' needs a list of values in parentheses")
                left = self.node(n.left)
                return Junction("or", tuple(BinOp("eq", left, self.node(v)) for v in n.right.val))
            return BinOp(_COMPARATORS[type(n.comparator)], self.node(n.left), self.node(n.right))
        if isinstance(n, o.BinOp):
            return BinOp(_ARITHMETIC[type(n.op)], self.node(n.left), self.node(n.right))
        if isinstance(n, o.UnaryOp):
            operand = self.node(n.operand)
            return Not(operand) if isinstance(n.op, o.Not) else Neg(operand)
        if isinstance(n, o.Call):
            if any(isinstance(a, o.NamedParam) for a in n.args):
                raise self.fail("functions take values, not named parameters")
            return Call(_dotted(n.func).lower(), tuple(self.node(a) for a in n.args))
        if isinstance(n, o.Identifier | o.Attribute):
            return Path(self.path(n))
        if isinstance(n, o.CollectionLambda):
            raise self.fail("the any/all lambda operators are not supported; name the property across the link")
        if isinstance(n, o.List):
            raise self.fail("a list of values is only allowed after 'in'")
        return self.literal(n)

    def junction(self, n: o.BoolOp) -> Junction:
        op = "and" if isinstance(n.op, o.And) else "or"
        items: list[Node] = []
        stack: list[Any] = [n]
        while stack:  # the chain in source order, flattened
            cur = stack.pop()
            if isinstance(cur, o.BoolOp) and type(cur.op) is type(n.op):
                stack += [cur.right, cur.left]
            else:
                items.append(self.node(cur))
        return Junction(op, tuple(items))

    def path(self, n: Any) -> tuple[str, ...]:
        if isinstance(n, o.Identifier):
            return (_dotted(n),)
        return (*self.path(n.owner), n.attr)

    def literal(self, n: Any) -> Lit:
        if isinstance(n, o.Null):
            return Lit(None, "null")
        if isinstance(n, o.Boolean):
            return Lit(n.val.lower() == "true", "bool")
        if isinstance(n, o.Integer):
            value = int(n.val)
            if abs(value) > _INT64:
                raise self.fail(f"the number {n.val} is out of range")
            return Lit(value, "num")
        if isinstance(n, o.Float):
            number = float(n.val)
            if not math.isfinite(number):
                raise self.fail(f"the number {n.val} is out of range")
            return Lit(number, "num")
        if isinstance(n, o.String):
            return Lit(n.val, "str")
        if isinstance(n, o.Geography):
            return Lit(n.val, "geo")
        if isinstance(n, o.DateTime):
            try:
                return Lit(parse_iso(n.val.upper()), "time")
            except ValueError as exc:
                raise self.fail(f"{n.val} is not a valid time ({exc})") from exc
        if isinstance(n, o.Date):
            try:
                return Lit(parse_iso(n.val + "T00:00:00Z"), "time")
            except ValueError as exc:
                raise self.fail(f"{n.val} is not a valid date") from exc
        if isinstance(n, o.Duration):
            return Lit(n.val, "duration")
        if isinstance(n, o.Time):
            raise self.fail(
                f"a time of day ({n.val}) is not supported; write a date and time such as 2026-05-01T{n.val}Z"
            )
        if isinstance(n, o.GUID):
            raise self.fail(f"{n.val} (a GUID) is not a SensorThings value")
        raise self.fail("unsupported expression")


def parse_filter(text: str) -> Node:
    return parse_expression(text, "$filter")


def parse_orderby(text: str) -> list[tuple[Node, bool]]:
    """``name asc, phenomenonTime desc`` → [(expression, descending)]."""
    out: list[tuple[Node, bool]] = []
    for part in split_top_level(text, ","):
        part = part.strip()
        if not part:
            raise StaQueryError("$orderby: an empty item")
        desc = False
        low = part.lower()
        if low.endswith(" desc"):
            desc, part = True, part[:-5]
        elif low.endswith(" asc"):
            part = part[:-4]
        out.append((parse_expression(part, "$orderby"), desc))
    return out


def split_top_level(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside parentheses and quotes."""
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, False
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
            if depth < 0:
                raise StaQueryError(f"unbalanced ')' in {text[:80]!r}")
        if ch == sep and depth == 0 and not quote:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0 or quote:
        raise StaQueryError(f"unbalanced parentheses or quotes in {text[:80]!r}")
    parts.append("".join(cur))
    return parts


def is_datetime(value: object) -> bool:
    return isinstance(value, datetime)
