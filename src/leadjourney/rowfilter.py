"""Row filters: the ``where`` of a ``[[sources]]`` block, e.g. ``lifecycle = 'COMPLETE'``.

A filter is a simple boolean expression over the file's own columns and literals:
comparisons (``= != <> < <= > >=``), ``AND``/``OR``/``NOT``, parentheses, ``IN (...)``,
``IS [NOT] NULL`` and ``[NOT] LIKE``/``ILIKE``. It is parsed here and the SQL rebuilt
from the parse (columns quoted as identifiers, values as literals), never pasted, so a
filter cannot carry SQL of its own.

Columns are bare words (``lifecycle_transition``, matched like every header: ignoring
case and punctuation) or quoted with double quotes or backticks for any header
(```lifecycle:transition```). Text values are in single quotes (``''`` for a quote).
Values compare as text with surrounding spaces ignored; a number on one side compares
numerically (a cell that is not a number does not match). ``IS NULL`` also holds for
a blank cell.

>>> f = parse_filter("lifecycle = 'COMPLETE' AND NOT amount < 10")
>>> f.columns
('lifecycle', 'amount')
>>> print(f.sql(lambda name: name))
((trim(CAST("lifecycle" AS VARCHAR)) = 'COMPLETE') AND (NOT (TRY_CAST("amount" AS DOUBLE) < 10)))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<text>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`)
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<op><=|>=|<>|!=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike"}
_MAX_DEPTH = 50


@dataclass(frozen=True)
class _Token:
    kind: str  # text, column, number, op, punct, keyword, end
    value: str
    at: int


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Literal:
    value: str | float


Operand = Column | Literal


@dataclass(frozen=True)
class Node:
    """One node of the parse: ``kind`` and ``parts``; the SQL is rebuilt from these."""

    kind: str  # or, and, not, compare, in, null, like
    parts: tuple[object, ...]


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None:
            raise ValueError(f"unexpected {text[at]!r} at character {at + 1}; a filter is a simple expression "
                             "like lifecycle = 'COMPLETE' (text in single quotes)")
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "text":
            out.append(_Token("text", raw[1:-1].replace("''", "'"), at))
        elif kind == "quoted":
            name = raw[1:-1].replace('""', '"') if raw[0] == '"' else raw[1:-1]
            if not name.strip():
                raise ValueError(f"empty column name at character {at + 1}")
            out.append(_Token("column", name, at))
        elif kind == "word":
            out.append(_Token("keyword" if raw.lower() in _KEYWORDS else "column",
                              raw.lower() if raw.lower() in _KEYWORDS else raw, at))
        elif kind != "space":
            out.append(_Token(kind, raw, at))
        at = m.end()
    out.append(_Token("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        if self.token.kind == kind and (value is None or self.token.value == value):
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str, what: str) -> None:
        if not self.accept(kind, value):
            raise self.unexpected(what)

    def unexpected(self, what: str) -> ValueError:
        t = self.token
        found = "the end" if t.kind == "end" else repr(t.value if t.kind != "text" else f"'{t.value}'")
        return ValueError(f"expected {what} at character {t.at + 1}, found {found}")

    def parse(self) -> Node:
        node = self.disjunction()
        if self.token.kind != "end":
            raise self.unexpected("AND, OR or the end")
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.accept("keyword", "or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Node("or", tuple(items))

    def conjunction(self) -> Node:
        items = [self.negation()]
        while self.accept("keyword", "and"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else Node("and", tuple(items))

    def negation(self) -> Node:
        if self.accept("keyword", "not"):
            return Node("not", (self.negation(),))
        return self.predicate()

    def predicate(self) -> Node:
        if self.accept("punct", "("):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise ValueError(f"more than {_MAX_DEPTH} nested parentheses")
            node = self.disjunction()
            self.expect("punct", ")", "')'")
            self.depth -= 1
            return node
        start = self.token
        left = self.operand()
        if self.token.kind == "op":
            op = self.take().value
            right = self.operand()
            if not (isinstance(left, Column) or isinstance(right, Column)):
                raise _no_column(start)
            return Node("compare", (left, op, right))
        if not isinstance(left, Column):
            raise _no_column(start)
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not")
            self.expect("keyword", "null", "NULL after IS")
            return Node("null", (left, negated))
        negated = self.accept("keyword", "not")
        if self.accept("keyword", "in"):
            self.expect("punct", "(", "'(' after IN")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.expect("punct", ")", "',' or ')'")
            if len({type(v.value) for v in values}) > 1:
                raise ValueError("an IN list mixes text and numbers")
            return Node("in", (left, tuple(values), negated))
        if self.token.kind == "keyword" and self.token.value in ("like", "ilike"):
            op = self.take().value
            pattern = self.literal()
            if not isinstance(pattern.value, str):
                raise ValueError(f"{op.upper()} takes a text pattern in single quotes")
            return Node("like", (left, op, pattern, negated))
        raise self.unexpected("a comparison (=, !=, <, ...), IN, IS NULL or LIKE")

    def operand(self) -> Operand:
        if self.token.kind == "column":
            return Column(self.take().value)
        return self.literal()

    def literal(self) -> Literal:
        token = self.token
        if token.kind == "text":
            self.take()
            return Literal(token.value)
        if token.kind == "number":
            self.take()
            return Literal(float(token.value))
        raise self.unexpected("a column, a 'text' value or a number")


def _no_column(token: _Token) -> ValueError:
    return ValueError(f"the condition at character {token.at + 1} names no column (a column name goes bare, "
                      "in double quotes or in backticks; single quotes are for text values)")


@dataclass(frozen=True)
class RowFilter:
    """A parsed ``where``: the columns it names and its SQL over the file's columns."""

    text: str
    root: Node

    @property
    def columns(self) -> tuple[str, ...]:
        found: list[str] = []

        def walk(part: object) -> None:
            if isinstance(part, Column) and part.name not in found:
                found.append(part.name)
            elif isinstance(part, Node | tuple):
                for p in part.parts if isinstance(part, Node) else part:
                    walk(p)

        walk(self.root)
        return tuple(found)

    def sql(self, resolve: Callable[[str], str]) -> str:
        """The filter as DuckDB SQL; ``resolve`` gives the file column a name in the filter stands for."""
        return _sql(self.root, resolve)


def parse_filter(text: str) -> RowFilter:
    """Parse a row filter; ``ValueError`` says what is wrong and where."""
    if not text.strip():
        raise ValueError("the filter is empty")
    return RowFilter(text, _Parser(text).parse())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number(value: float) -> str:
    return repr(int(value)) if value.is_integer() else repr(value)


def _operand(part: object, numeric: bool, resolve: Callable[[str], str]) -> str:
    if isinstance(part, Column):
        col = _ident(resolve(part.name))
        return f"TRY_CAST({col} AS DOUBLE)" if numeric else f"trim(CAST({col} AS VARCHAR))"
    assert isinstance(part, Literal)
    if isinstance(part.value, float):
        return _number(part.value)
    return f"TRY_CAST({_quote(part.value)} AS DOUBLE)" if numeric else _quote(part.value)


def _is_number(part: object) -> bool:
    return isinstance(part, Literal) and isinstance(part.value, float)


def _sql(node: Node, resolve: Callable[[str], str]) -> str:
    kind, parts = node.kind, node.parts
    if kind in ("or", "and"):
        return "(" + f" {kind.upper()} ".join(_sql(p, resolve) for p in parts if isinstance(p, Node)) + ")"
    if kind == "not":
        inner = parts[0]
        assert isinstance(inner, Node)
        return f"(NOT {_sql(inner, resolve)})"
    if kind == "compare":
        left, op, right = parts
        numeric = _is_number(left) or _is_number(right)
        op = "<>" if op == "!=" else op
        return f"({_operand(left, numeric, resolve)} {op} {_operand(right, numeric, resolve)})"
    if kind == "null":
        left, negated = parts
        value = (f"NULLIF({_operand(left, False, resolve)}, '')" if isinstance(left, Column)
                 else _operand(left, False, resolve))
        return f"({value} IS {'NOT ' if negated else ''}NULL)"
    if kind == "in":
        left, values, negated = parts
        assert isinstance(values, tuple)
        numeric = _is_number(values[0])
        listed = ", ".join(_operand(v, numeric, resolve) for v in values)
        return f"({_operand(left, numeric, resolve)} {'NOT ' if negated else ''}IN ({listed}))"
    left, op, pattern, negated = parts
    return (f"({_operand(left, False, resolve)} {'NOT ' if negated else ''}{str(op).upper()} "
            f"{_operand(pattern, False, resolve)})")
