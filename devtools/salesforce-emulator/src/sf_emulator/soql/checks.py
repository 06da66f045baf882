"""Salesforce's limits on a query's text and filters, checked before it runs.

- A statement is at most 100,000 characters; each string in WHERE at most 4,000 [S22].
- With the org switch `soql_strict_datetimes`, a datetime literal takes only the
  documented forms `Z`, `+hh:mm`, `-hh:mm` [S31] (what else Salesforce takes is inferred).
- ContentDocumentLink needs a filter on Id, LinkedEntityId or ContentDocumentId [S13].
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sf_emulator.errors import SalesforceError, malformed_query
from sf_emulator.soql import ast
from sf_emulator.soql.bind import BoundComparison, BoundQuery
from sf_emulator.soql.literal_types import fail

MAX_SOQL = 100_000
MAX_WHERE_STRING = 4_000
_DOCUMENTED_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
_CDL_KEYS = frozenset({"Id", "LinkedEntityId", "ContentDocumentId"})
CDL_UNFILTERED = (
    "Implementation restriction: ContentDocumentLink requires a filter by a single Id on "
    "ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using "
    "the IN operator."
)


def check_text(text: str) -> None:
    if len(text) > MAX_SOQL:
        # The message is Salesforce's, as client libraries report it.
        raise malformed_query(f"SOQL statements can not be longer than {MAX_SOQL} characters")


def _comparisons(cond: ast.Condition | None) -> Iterator[ast.Comparison]:
    if cond is None:
        return
    if isinstance(cond, ast.And | ast.Or):
        for item in cond.items:
            yield from _comparisons(item)
    elif isinstance(cond, ast.Not):
        yield from _comparisons(cond.item)
    else:
        yield cond


def _string_length(v: ast.Literal | ast.LikePattern) -> int:
    if isinstance(v, ast.LikePattern):
        return len(v.raw) - 2  # without its quotes
    return len(str(v.value)) if v.kind == "string" else 0


def check_literals(q: ast.Query, strict_datetimes: bool) -> None:
    """Strings over 4,000 characters, and (when strict) undocumented datetime forms."""
    for c in _comparisons(q.where):
        for v in c.value if isinstance(c.value, tuple) else (c.value,):
            if _string_length(v) > MAX_WHERE_STRING:
                # The limit is documented [S22]; the error's wording is inferred.
                raise fail(
                    q,
                    c.field.pos,
                    "MALFORMED_QUERY",
                    f"String literal is too long: at most {MAX_WHERE_STRING} characters "
                    "for each string in a WHERE clause",
                )
            if (
                strict_datetimes
                and isinstance(v, ast.Literal)
                and v.kind == "datetime"
                and not _DOCUMENTED_DATETIME.fullmatch(v.raw)
            ):
                raise fail(q, c.field.pos, "MALFORMED_QUERY", f"invalid datetime: {v.raw}")


def check_filters(bq: BoundQuery) -> None:
    if bq.obj.name != "ContentDocumentLink":
        return
    where = bq.where
    items = where.items if isinstance(where, ast.And) else (where,)
    for c in items:
        if not isinstance(c, BoundComparison) or c.path.steps:
            continue
        if c.path.leaf.name not in _CDL_KEYS:
            continue
        if c.op == "=" and isinstance(c.value, str):
            return
        if c.op == "in" and c.value and all(isinstance(v, str) for v in c.value):
            return
    # The text is a captured platform message; MALFORMED_QUERY over REST is inferred.
    raise SalesforceError(400, "MALFORMED_QUERY", CDL_UNFILTERED)
