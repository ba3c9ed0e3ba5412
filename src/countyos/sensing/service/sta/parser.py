"""The OData expression language of SensorThings ``$filter`` and ``$orderby``, parsed into a small AST.

The parser is a precedence climber over a regular-expression tokenizer; every error names what was
expected and the position, so that a client gets a 400 it can act on. It evaluates nothing: the AST
is translated to SQL by :mod:`countyos.sensing.service.sta.sql`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from countyos.sensing.service.times import parse_iso


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
class Not:
    operand: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


Node = Lit | Path | Call | BinOp | Not | Neg

COMPARISON = ("eq", "ne", "gt", "ge", "lt", "le")
ADDITIVE = ("add", "sub")
MULTIPLICATIVE = ("mul", "div", "mod")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<geo>(?:geography|geometry)'[^']*')
  | (?P<duration>duration'[^']*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT:]))
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))
  | (?P<string>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_@$][\w.@$]*)
  | (?P<punct>[()/,])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str, option: str = "$filter") -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise StaQueryError(f"{option}: unexpected character {text[pos]!r} at position {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, m.group(), pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, option: str) -> None:
        self.text = text
        self.option = option
        self.tokens = tokenize(text, option)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise StaQueryError(f"{self.option}: the expression ends too early")
        self.i += 1
        return tok

    def at_word(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text in words:
            return tok.text
        return None

    def expect(self, text: str) -> None:
        tok = self.peek()
        if tok is None or tok.text != text:
            where = f"at position {tok.pos} (found {tok.text!r})" if tok else "at the end"
            raise StaQueryError(f"{self.option}: expected {text!r} {where}")
        self.i += 1

    def fail(self, what: str) -> StaQueryError:
        tok = self.peek()
        where = f"at position {tok.pos} (found {tok.text!r})" if tok else "at the end"
        return StaQueryError(f"{self.option}: expected {what} {where}")

    # expr := or
    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise self.fail("an operator or the end of the expression")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.at_word("or"):
            self.next()
            node = BinOp("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at_word("and"):
            self.next()
            node = BinOp("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.at_word("not"):
            self.next()
            return Not(self.not_())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        op = self.at_word(*COMPARISON)
        if op:
            self.next()
            node = BinOp(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while op := self.at_word(*ADDITIVE):
            self.next()
            node = BinOp(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while op := self.at_word(*MULTIPLICATIVE):
            self.next()
            node = BinOp(op, node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text == "-":
            self.next()
            return Neg(self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.fail("a value, a property or a function")
        if tok.text == "(":
            self.next()
            node = self.or_()
            self.expect(")")
            return node
        self.next()
        if tok.kind == "number":
            num = float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
            return Lit(num, "num")
        if tok.kind == "string":
            return Lit(tok.text[1:-1].replace("''", "'"), "str")
        if tok.kind == "datetime":
            try:
                return Lit(parse_iso(tok.text), "time")
            except ValueError as exc:
                raise StaQueryError(f"{self.option}: {tok.text} is not a valid time") from exc
        if tok.kind == "date":
            try:
                return Lit(parse_iso(tok.text + "T00:00:00Z"), "time")
            except ValueError as exc:
                raise StaQueryError(f"{self.option}: {tok.text} is not a valid date") from exc
        if tok.kind == "geo":
            return Lit(tok.text[tok.text.index("'") + 1 : -1], "geo")
        if tok.kind == "duration":
            return Lit(tok.text[9:-1], "duration")
        if tok.kind == "name":
            if tok.text in ("true", "false"):
                return Lit(tok.text == "true", "bool")
            if tok.text == "null":
                return Lit(None, "null")
            nxt = self.peek()
            if nxt is not None and nxt.text == "(":
                self.next()
                args: list[Node] = []
                if self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
                    args.append(self.or_())
                    while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                        self.next()
                        args.append(self.or_())
                self.expect(")")
                return Call(tok.text.lower(), tuple(args))
            segments = [tok.text]
            while self.peek() is not None and self.peek().text == "/":  # type: ignore[union-attr]
                self.next()
                seg = self.next()
                if seg.kind != "name":
                    raise StaQueryError(f"{self.option}: expected a property name after '/' at position {seg.pos}")
                segments.append(seg.text)
            return Path(tuple(segments))
        raise StaQueryError(f"{self.option}: unexpected {tok.text!r} at position {tok.pos}")


def parse_filter(text: str) -> Node:
    if not text.strip():
        raise StaQueryError("$filter is empty")
    return _Parser(text, "$filter").parse()


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
        out.append((_Parser(part, "$orderby").parse(), desc))
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
                raise StaQueryError(f"unbalanced ')' in {text!r}")
        if ch == sep and depth == 0 and not quote:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0 or quote:
        raise StaQueryError(f"unbalanced parentheses or quotes in {text!r}")
    parts.append("".join(cur))
    return parts


def is_datetime(value: object) -> bool:
    return isinstance(value, datetime)
