"""Run a SOQL query against the store and page its result with query locators.

Selective filters go through the lookup index: a top-level `=` or `IN` on Id or on an
indexed field (Email, external ids, ...) narrows the candidates before evaluation, so
matching 200 emails among 100,000 Leads reads 200 rows, not 100,000.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sf_emulator import ids
from sf_emulator.errors import SalesforceError
from sf_emulator.soql import ast
from sf_emulator.soql.bind import BoundComparison, BoundQuery, bind
from sf_emulator.soql.checks import check_filters, check_literals, check_text
from sf_emulator.soql.evaluate import Fetch, order, predicate, project
from sf_emulator.soql.parser import parse
from sf_emulator.store import Store
from sf_emulator.store.orgs import Org
from sf_emulator.store.records import StoredRecord

DEFAULT_BATCH = 2000
MIN_BATCH = 200
CURSOR_TTL = 2 * 86400
"""Cursors and their results are kept 2 days, and there is no cap on open ones [S29]."""
LOCATOR_PREFIX = "0r8"
PAGE_BYTES = 1_000_000
"""A page holds `batch` records, or fewer when their JSON passes this many bytes: pages
"can be smaller" with wide rows [S21]. The budget is the emulator's choice."""

Clock = Callable[[], float]


@dataclass
class Cursor:
    org_id: str
    bound: BoundQuery
    ids: list[str]
    batch: int
    expires: float = 0.0


class Cursors:
    """Open query locators, in memory: kept 2 days from their query, never capped [S29]."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._open: dict[str, Cursor] = {}
        self._clock = clock

    def add(self, cursor: Cursor) -> str:
        now = self._clock()
        for key in [k for k, c in self._open.items() if c.expires < now]:
            del self._open[key]
        cursor.expires = now + CURSOR_TTL
        locator = ids.new_id(LOCATOR_PREFIX)
        self._open[locator] = cursor
        return locator

    def get(self, locator: str, org_id: str) -> Cursor:
        cursor = self._open.get(locator)
        if cursor is None or cursor.org_id != org_id or cursor.expires < self._clock():
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return cursor


class QueryEngine:
    def __init__(self, store: Store, cursors: Cursors) -> None:
        self.store = store
        self.cursors = cursors

    def _fetcher(self, org_id: str) -> Fetch:
        cache: dict[str, StoredRecord | None] = {}

        def fetch(record_id: str) -> StoredRecord | None:
            if record_id not in cache:
                cache[record_id] = self.store.records.get(org_id, record_id)
            return cache[record_id]

        return fetch

    def run(
        self,
        org: Org,
        text: str,
        version: str,
        batch: int = DEFAULT_BATCH,
        include_deleted: bool = False,
    ) -> dict[str, Any]:
        check_text(text)
        parsed = parse(text)
        settings = org.settings
        check_literals(parsed, settings.soql_strict_datetimes)
        bq = bind(parsed, org.catalog, settings.soql_desc_nulls_first)
        check_filters(bq)
        fetch = self._fetcher(org.id)
        rows = self._candidates(org, bq, include_deleted)
        if bq.where is not None:
            test = predicate(bq.where)
            rows = [r for r in rows if test(r.data, fetch)]
        if bq.order_by:
            data = [r.data for r in rows]
            by_id = {r.data["Id"]: r for r in rows}
            order(data, bq, fetch)
            rows = [by_id[d["Id"]] for d in data]
        q = bq.query
        start = q.offset or 0
        rows = rows[start : start + q.limit if q.limit is not None else None]
        if bq.fields is None:
            return {"totalSize": len(rows), "done": True, "records": []}
        records = _page(bq, rows[:batch], fetch, version)
        out: dict[str, Any] = {
            "totalSize": len(rows),
            "done": len(records) == len(rows),
            "records": records,
        }
        if len(records) < len(rows):
            cursor = Cursor(org.id, bq, [r.data["Id"] for r in rows], batch)
            locator = self.cursors.add(cursor)
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{len(records)}"
        return out

    def more(self, org: Org, locator: str, version: str) -> dict[str, Any]:
        """The page at `{locator}-{position}`."""
        key, _, pos_text = locator.partition("-")
        cursor = self.cursors.get(key, org.id)
        try:
            pos = int(pos_text or "0")
        except ValueError:
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator") from None
        chunk = cursor.ids[pos : pos + cursor.batch]
        stored = self.store.records.get_many(org.id, chunk)
        fetch = self._fetcher(org.id)
        records = _page(cursor.bound, [stored[i] for i in chunk if i in stored], fetch, version)
        # Records deleted since the query are skipped; the position moves past them too.
        taken = _taken(chunk, stored, len(records))
        end = pos + taken
        out: dict[str, Any] = {
            "totalSize": len(cursor.ids),
            "done": end >= len(cursor.ids),
            "records": records,
        }
        if end < len(cursor.ids):
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{key}-{end}"
        return out

    def _candidates(self, org: Org, bq: BoundQuery, include_deleted: bool) -> list[StoredRecord]:
        lookup = None if include_deleted else _index_lookup(bq)
        if lookup is None:
            return [
                StoredRecord(bq.obj.name, bool(d.get("IsDeleted")), d)
                for d in self.store.records.scan(org.id, bq.obj.name, include_deleted)
            ]
        name, keys = lookup
        found = keys if name == "Id" else self.store.records.lookup(org.id, bq.obj.name, name, keys)
        stored = self.store.records.get_many(org.id, found)
        return [r for r in stored.values() if r.sobject == bq.obj.name and not r.deleted]


def _index_lookup(bq: BoundQuery) -> tuple[str, list[str]] | None:
    """(field, values) of a top-level `=`/`IN` on an indexed field, if the WHERE has one."""
    where = bq.where
    items = where.items if isinstance(where, ast.And) else (where,)
    indexed = {f.name for f in bq.obj.indexed_fields} | {"Id"}
    for c in items:
        if not isinstance(c, BoundComparison) or c.path.steps or c.is_range:
            continue
        if c.path.leaf.name not in indexed:
            continue
        if c.op == "=" and isinstance(c.value, str):
            return c.path.leaf.name, [c.value]
        if c.op == "in" and all(isinstance(v, str) for v in c.value):
            return c.path.leaf.name, list(c.value)
    return None


def _page(
    bq: BoundQuery, rows: list[StoredRecord], fetch: Fetch, version: str
) -> list[dict[str, Any]]:
    """The rows' projections, up to `PAGE_BYTES` of JSON (always at least one row)."""
    out: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        record = project(bq, row, fetch, version)
        size += len(json.dumps(record, separators=(",", ":")))
        if out and size > PAGE_BYTES:
            break
        out.append(record)
    return out


def _taken(chunk: list[str], stored: dict[str, StoredRecord], served: int) -> int:
    """How many ids of `chunk` the page covered: `served` present ones and the missing
    ones among them."""
    seen = 0
    for n, record_id in enumerate(chunk):
        if record_id in stored:
            if seen == served:
                return n
            seen += 1
    return len(chunk)
