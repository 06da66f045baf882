"""Evaluate a bound query over records: WHERE as compiled closures, ORDER BY, projection.

SOQL's logic is two-valued: `Email != 'x'` and `Email NOT IN (...)` include records
whose Email is null, and `Email = null` is how you ask for nulls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sf_emulator.schema.fields import STRING_TYPES
from sf_emulator.soql import ast
from sf_emulator.soql.bind import BoundComparison, BoundPath, BoundQuery
from sf_emulator.store.records import StoredRecord

Record = dict[str, Any]
Fetch = Callable[[str], StoredRecord | None]
Getter = Callable[[Record, Fetch], Any]
Predicate = Callable[[Record, Fetch], bool]


def getter(bp: BoundPath) -> Getter:
    name = bp.leaf.name
    if not bp.steps:
        return lambda record, fetch: record.get(name)

    def follow(record: Record, fetch: Fetch) -> Any:
        current, kind = record, ""
        for step in bp.steps:
            ref = current.get(step.name)
            parent = fetch(ref) if ref else None
            if parent is None:
                return None
            current, kind = parent.data, parent.sobject
        return kind if bp.polymorphic_leaf and name == "Type" else current.get(name)

    return follow


def predicate(cond: Any) -> Predicate:
    if isinstance(cond, ast.And):
        parts = [predicate(c) for c in cond.items]
        return lambda r, f: all(p(r, f) for p in parts)
    if isinstance(cond, ast.Or):
        parts = [predicate(c) for c in cond.items]
        return lambda r, f: any(p(r, f) for p in parts)
    if isinstance(cond, ast.Not):
        inner = predicate(cond.item)
        return lambda r, f: not inner(r, f)
    return _comparison(cond)


def _comparison(c: BoundComparison) -> Predicate:
    get = getter(c.path)
    fold = c.path.leaf.type in STRING_TYPES

    def value(r: Record, f: Fetch) -> Any:
        v = get(r, f)
        return v.lower() if fold and isinstance(v, str) else v

    lit = c.value
    if c.op == "like":
        return lambda r, f: (v := get(r, f)) is not None and lit.fullmatch(str(v)) is not None
    if c.op in {"in", "notin"}:
        members = frozenset(lit)
        if c.op == "in":
            return lambda r, f: value(r, f) in members
        return lambda r, f: value(r, f) not in members
    if c.op in {"includes", "excludes"}:
        wanted = [frozenset(p.strip() for p in str(v).split(";")) for v in lit if v is not None]

        def includes(r: Record, f: Fetch) -> bool:
            v = value(r, f)
            chosen = frozenset(p.strip() for p in v.split(";")) if v else frozenset()
            return any(w <= chosen for w in wanted)

        if c.op == "includes":
            return includes
        return lambda r, f: not includes(r, f)
    test = _range_test(c.op, lit) if c.is_range else _scalar_test(c.op, lit)
    return lambda r, f: test(value(r, f))


def _scalar_test(op: str, lit: Any) -> Callable[[Any], bool]:
    if op == "=":
        return lambda v: v == lit
    if op == "!=":
        return lambda v: v != lit
    if lit is None:
        return lambda v: False
    tests: dict[str, Callable[[Any], bool]] = {
        "<": lambda v: v is not None and v < lit,
        "<=": lambda v: v is not None and v <= lit,
        ">": lambda v: v is not None and v > lit,
        ">=": lambda v: v is not None and v >= lit,
    }
    return tests[op]


def _range_test(op: str, bounds: tuple[str, str]) -> Callable[[Any], bool]:
    start, end = bounds
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: v is not None and start <= v < end,
        "!=": lambda v: v is None or not start <= v < end,
        "<": lambda v: v is not None and v < start,
        "<=": lambda v: v is not None and v < end,
        ">": lambda v: v is not None and v >= end,
        ">=": lambda v: v is not None and v >= start,
    }
    return tests[op]


def order(rows: list[Record], bq: BoundQuery, fetch: Fetch) -> None:
    """Sort in place; stable sorts from the last key to the first make a multi-key sort."""
    for bp, desc, nulls_last in reversed(bq.order_by):
        get = getter(bp)
        fold = bp.leaf.type in STRING_TYPES
        # The null rank is chosen so that, after `reverse`, nulls land where asked.
        null_rank = 1 if nulls_last != desc else 0

        def key(r: Record, get: Getter = get, fold: bool = fold, nr: int = null_rank) -> Any:
            v = get(r, fetch)
            if v is None:
                return (nr, 0)
            return (1 - nr, v.lower() if fold and isinstance(v, str) else v)

        rows.sort(key=key, reverse=desc)


def project(bq: BoundQuery, stored: StoredRecord, fetch: Fetch, version: str) -> Record:
    """A query result row: `attributes`, then the selected fields, relationships nested."""
    base = f"/services/data/v{version}/sobjects"
    record = stored.data
    out: Record = {
        "attributes": {"type": stored.sobject, "url": f"{base}/{stored.sobject}/{record['Id']}"}
    }
    for bp in bq.fields or ():
        container: Record = out
        current, kind = record, stored.sobject
        reached = True
        for i, step in enumerate(bp.steps):
            rel = bp.names[i]
            ref = current.get(step.name)
            parent = fetch(ref) if ref else None
            if parent is None:
                container.setdefault(rel, None)
                reached = False
                break
            if container.get(rel) is None:
                shown = "Name" if step.polymorphic else parent.sobject
                container[rel] = {
                    "attributes": {"type": shown, "url": f"{base}/{parent.sobject}/{ref}"}
                }
            container = container[rel]
            current, kind = parent.data, parent.sobject
        if not reached:
            continue
        name = bp.leaf.name
        if bp.polymorphic_leaf and name == "Type":
            container[name] = kind
        elif bp.leaf.type == "base64" and current.get(name) is not None:
            container[name] = f"{base}/{kind}/{current['Id']}/{name}"
        else:
            container[name] = current.get(name)
    return out
