"""Parse SOQL text into `ast.Query`; syntax errors become MALFORMED_QUERY as Salesforce
words them (the line, a caret under the column, `ERROR at Row:R:Column:C`)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, v_args
from lark.exceptions import VisitError

from sf_emulator.errors import SalesforceError, malformed_query
from sf_emulator.soql import ast
from sf_emulator.soql.literals import like_regex, unescape

MAX_OFFSET = 2000


@functools.cache
def lark_parser() -> Lark:
    grammar = resources.files("sf_emulator.soql").joinpath("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=False, maybe_placeholders=False)


def located(text: str, line: int, column: int, message: str) -> str:
    """Salesforce's error layout: the offending line, a caret, the position, the message."""
    lines = text.splitlines() or [""]
    source = lines[min(line, len(lines)) - 1]
    return (
        f"\n{source}\n{' ' * max(column - 1, 0)}^\nERROR at Row:{line}:Column:{column}\n{message}"
    )


def _pos(tok: Token) -> ast.Pos:
    return ast.Pos(tok.line or 1, tok.column or 1)


@v_args(inline=True)
class _ToAst(Transformer[Token, Any]):
    def field(self, *names: Token) -> ast.FieldPath:
        return ast.FieldPath(tuple(str(n) for n in names), _pos(names[0]))

    def count(self) -> None:
        return None

    def fields(self, *paths: ast.FieldPath) -> tuple[ast.FieldPath, ...]:
        return paths

    def string(self, tok: Token) -> ast.Literal:
        return ast.Literal("string", unescape(str(tok)), str(tok))

    def number(self, tok: Token) -> ast.Literal:
        return ast.Literal("number", float(tok), str(tok))

    def date(self, tok: Token) -> ast.Literal:
        return ast.Literal("date", str(tok), str(tok))

    def datetime(self, tok: Token) -> ast.Literal:
        return ast.Literal("datetime", str(tok), str(tok))

    def date_literal(self, tok: Token) -> ast.Literal:
        return ast.Literal("date_literal", str(tok).upper(), str(tok))

    def null(self) -> ast.Literal:
        return ast.Literal("null", None, "null")

    def true(self) -> ast.Literal:
        return ast.Literal("boolean", True, "true")

    def false(self) -> ast.Literal:
        return ast.Literal("boolean", False, "false")

    def value_list(self, *items: ast.Literal) -> tuple[ast.Literal, ...]:
        return items

    def compare(self, f: ast.FieldPath, op: Token, value: ast.Literal) -> ast.Comparison:
        return ast.Comparison(f, "!=" if str(op) == "<>" else str(op), value)

    def like(self, f: ast.FieldPath, tok: Token) -> ast.Comparison:
        return ast.Comparison(f, "like", ast.LikePattern(like_regex(str(tok)), str(tok)))

    def in_(self, f: ast.FieldPath, items: tuple[ast.Literal, ...]) -> ast.Comparison:
        return ast.Comparison(f, "in", items)

    def not_in(self, f: ast.FieldPath, items: tuple[ast.Literal, ...]) -> ast.Comparison:
        return ast.Comparison(f, "notin", items)

    def includes(self, f: ast.FieldPath, items: tuple[ast.Literal, ...]) -> ast.Comparison:
        return ast.Comparison(f, "includes", items)

    def excludes(self, f: ast.FieldPath, items: tuple[ast.Literal, ...]) -> ast.Comparison:
        return ast.Comparison(f, "excludes", items)

    def and_(self, *items: ast.Condition) -> ast.Condition:
        return items[0] if len(items) == 1 else ast.And(items)

    def or_(self, *items: ast.Condition) -> ast.Condition:
        return items[0] if len(items) == 1 else ast.Or(items)

    def not_(self, item: ast.Condition) -> ast.Not:
        return ast.Not(item)

    def where(self, cond: ast.Condition) -> tuple[str, ast.Condition]:
        return ("where", cond)

    def nulls(self, tok: Token) -> bool:
        return str(tok).lower() == "last"

    def order_item(self, f: ast.FieldPath, *rest: Any) -> ast.OrderItem:
        desc = any(isinstance(r, Token) and str(r).lower() == "desc" for r in rest)
        explicit = [r for r in rest if isinstance(r, bool)]
        return ast.OrderItem(f, desc, explicit[0] if explicit else None)

    def order_by(self, *items: ast.OrderItem) -> tuple[str, tuple[ast.OrderItem, ...]]:
        return ("order_by", items)

    def limit(self, tok: Token) -> tuple[str, int]:
        return ("limit", int(tok))

    def offset(self, tok: Token) -> tuple[str, int]:
        return ("offset", int(tok))


def parse(text: str) -> ast.Query:
    """The AST of `text`, or a SalesforceError (MALFORMED_QUERY and friends)."""
    try:
        parts = _ToAst().transform(lark_parser().parse(text)).children
    except UnexpectedCharacters as exc:
        raise malformed_query(
            located(text, exc.line, exc.column, f"unexpected token: '{exc.char}'")
        ) from None
    except UnexpectedInput as exc:
        tok = getattr(exc, "token", None)
        shown = "<EOF>" if tok is None or tok.type == "$END" else f"'{tok}'"
        line, column = getattr(exc, "line", 1), getattr(exc, "column", len(text) + 1)
        if not isinstance(line, int) or line < 1:
            line, column = 1, len(text) + 1
        raise malformed_query(located(text, line, column, f"unexpected token: {shown}")) from None
    except VisitError as exc:  # a literal with an illegal escape, raised in the transformer
        if isinstance(exc.orig_exc, SalesforceError):
            raise exc.orig_exc from None
        raise
    return _build(text, parts)


def _build(text: str, parts: list[Any]) -> ast.Query:
    select, sobject = parts[0], parts[1]
    clauses = dict(parts[2:])
    offset = clauses.get("offset")
    if offset is not None and offset > MAX_OFFSET:
        raise SalesforceError(
            400, "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    return ast.Query(
        text=text,
        fields=select,
        sobject=str(sobject),
        sobject_pos=_pos(sobject),
        where=clauses.get("where"),
        order_by=clauses.get("order_by", ()),
        limit=clauses.get("limit"),
        offset=offset,
    )
