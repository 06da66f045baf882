"""Reading the shape of a SOQL query without parsing it fully. Pure.

Enough to check what a query selects and from which object, and to make "the first
record" deterministic: clauses are found on a copy whose string literals are blanked,
at parenthesis depth 0, so neither a value nor a subquery can be mistaken for a clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = r"[A-Za-z][A-Za-z0-9_]*"
_FUNCTION = re.compile(rf"^({_WORD})\s*\((.*)\)\s*({_WORD})?$", re.DOTALL)
_PATH = re.compile(rf"^{_WORD}(?:\.{_WORD})*")
_CLAUSES = {
    "select": re.compile(r"\bSELECT\b", re.IGNORECASE),
    "from": re.compile(r"\bFROM\b", re.IGNORECASE),
    "group": re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE),
    "order": re.compile(r"\bORDER\s+BY\b", re.IGNORECASE),
    "limit": re.compile(r"\bLIMIT\b", re.IGNORECASE),
    "offset": re.compile(r"\bOFFSET\b", re.IGNORECASE),
    "for": re.compile(
        r"\b(?:FOR\s+(?:VIEW|UPDATE|REFERENCE)|UPDATE\s+(?:TRACKING|VIEWSTAT))\b", re.I
    ),
}
_ORDERS_BY_ID = re.compile(r"(?:^|[\s,])Id\b", re.IGNORECASE)


class QueryShapeError(ValueError):
    """Not a `SELECT ... FROM <object>` query."""


def mask_literals(soql: str) -> str:
    """`soql` with the inside of every single-quoted literal replaced by `_` (same length)."""
    out = list(soql)
    i, n = 0, len(soql)
    while i < n:
        if soql[i] != "'":
            i += 1
            continue
        j = i + 1
        while j < n and soql[j] != "'":
            j += 2 if soql[j] == "\\" else 1
        for k in range(i + 1, min(j, n)):
            out[k] = "_"
        i = j + 1
    return "".join(out)


def _top_level(masked: str, pattern: re.Pattern[str], start: int = 0) -> int | None:
    """Index of the first match of `pattern` at parenthesis depth 0, from `start`."""
    depth_at = _depths(masked)
    for match in pattern.finditer(masked, start):
        if depth_at[match.start()] == 0:
            return match.start()
    return None


def _depths(masked: str) -> list[int]:
    depth, out = 0, []
    for ch in masked:
        if ch == ")":
            depth -= 1
        out.append(depth)
        if ch == "(":
            depth += 1
    return out


@dataclass(frozen=True, slots=True)
class QueryShape:
    """Where the clauses of one query are (indices into the query text)."""

    soql: str
    select_items: tuple[str, ...]
    object: str
    clauses: dict[str, int | None]


def shape(soql: str) -> QueryShape:
    """The SELECT items, the FROM object and the top-level clause positions of `soql`."""
    masked = mask_literals(soql)
    select = _top_level(masked, _CLAUSES["select"])
    if select is None or masked[:select].strip():
        raise QueryShapeError("a query starts with SELECT")
    from_at = _top_level(masked, _CLAUSES["from"], select)
    match = re.match(rf"FROM\s+({_WORD})", masked[from_at:] if from_at is not None else "", re.I)
    if from_at is None or match is None:
        raise QueryShapeError("a query needs FROM and an object name")
    clauses = {name: _top_level(masked, p, from_at) for name, p in _CLAUSES.items()}
    return QueryShape(
        soql=soql,
        select_items=_split_items(soql, masked, select + len("SELECT"), from_at),
        object=match.group(1),
        clauses=clauses,
    )


def _split_items(soql: str, masked: str, start: int, end: int) -> tuple[str, ...]:
    items, depth, last = [], 0, start
    for i in range(start, end):
        if masked[i] == "(":
            depth += 1
        elif masked[i] == ")":
            depth -= 1
        elif masked[i] == "," and depth == 0:
            items.append(soql[last:i].strip())
            last = i + 1
    items.append(soql[last:end].strip())
    return tuple(i for i in items if i)


def item_field(item: str) -> str | None:
    """The field path a SELECT item returns under: `Email`, `Account.Name`;
    `toLabel(Status)` returns `Status`; an aliased aggregate its alias; a subquery None."""
    if item.startswith("("):
        return None
    function = _FUNCTION.match(item)
    if function:
        return function.group(3) or item_field(function.group(2).strip())
    path = _PATH.match(item)
    return path.group(0) if path else None


def selected_fields(soql: str) -> tuple[str, ...]:
    """The field paths `soql` selects (what a record of its result can hold)."""
    return tuple(f for f in (item_field(i) for i in shape(soql).select_items) if f)


def first_row_query(soql: str, order_by: str = "Id ASC", tie_breaker: str = "Id ASC") -> str:
    """`soql` made to return its first record deterministically: `ORDER BY order_by`
    when it has no ORDER BY (else `tie_breaker` appended, unless it already orders by Id),
    and `LIMIT 1` when it has no LIMIT. Aggregate queries (GROUP BY, COUNT()) are left as
    they are."""
    q = shape(soql)
    c = q.clauses
    if c["group"] is not None or any(i.upper().startswith("COUNT(") for i in q.select_items):
        return soql
    n = len(soql)
    order_end = min(p for p in (c["limit"], c["offset"], c["for"], n) if p is not None)
    limit_at = min(p for p in (c["offset"], c["for"], n) if p is not None)
    edits: list[tuple[int, int, str]] = []  # (where, rank among equal places, text)
    if c["order"] is None:
        edits.append((order_end, 0, f"ORDER BY {order_by}"))
    elif not _ORDERS_BY_ID.search(mask_literals(soql)[c["order"] + 5 : order_end]):
        edits.append((order_end, 0, f", {tie_breaker}"))
    if c["limit"] is None:
        edits.append((limit_at, 1, "LIMIT 1"))
    pieces, last = [], 0
    for at, _, text in sorted(edits):
        pieces += [soql[last:at], text]
        last = at
    pieces.append(soql[last:])
    out = ""
    for piece in (p.strip() for p in pieces):
        if piece:
            out += piece if not out or piece.startswith(",") else " " + piece
    return out
