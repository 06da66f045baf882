"""Records as JSON documents, with a lookup index for the fields queries match on.

Indexed values are kept lower-cased, because SOQL's string `=` and `IN` are
case-insensitive; the evaluator re-checks every candidate, so the index only narrows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sf_emulator.schema.fields import ObjectDef
from sf_emulator.store.db import Database
from sf_emulator.store.match_keys import MATCH_KEY, PERSONS, match_key

Record = dict[str, Any]


@dataclass(frozen=True)
class StoredRecord:
    sobject: str
    deleted: bool
    data: Record


class RecordStore:
    """Insert, update, soft-delete and find records of every org."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, org_id: str, obj: ObjectDef, record: Record) -> None:
        self.db.conn.execute(
            "INSERT INTO records (id, org_id, sobject, data) VALUES (?, ?, ?, ?)",
            (record["Id"], org_id, obj.name, json.dumps(record)),
        )
        self._index(org_id, obj, record)

    def insert_many(self, org_id: str, obj: ObjectDef, records: list[Record]) -> None:
        """The admin bulk load: one executemany per table."""
        self.db.conn.executemany(
            "INSERT INTO records (id, org_id, sobject, data) VALUES (?, ?, ?, ?)",
            [(r["Id"], org_id, obj.name, json.dumps(r)) for r in records],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO record_keys VALUES (?, ?, ?, ?, ?)",
            [row for r in records for row in self._key_rows(org_id, obj, r)],
        )

    def update(self, org_id: str, obj: ObjectDef, record: Record) -> None:
        self.db.conn.execute(
            "UPDATE records SET data = ? WHERE id = ?", (json.dumps(record), record["Id"])
        )
        self._unindex(record["Id"], org_id, obj.name)
        self._index(org_id, obj, record)

    def delete(self, org_id: str, obj: ObjectDef, record: Record) -> None:
        """Soft delete (to the recycle bin): queryAll still sees it, lookups do not."""
        self.db.conn.execute(
            "UPDATE records SET deleted = 1, data = ? WHERE id = ?",
            (json.dumps(record), record["Id"]),
        )
        self._unindex(record["Id"], org_id, obj.name)

    def get(self, org_id: str, record_id: str) -> StoredRecord | None:
        row = self.db.conn.execute(
            "SELECT sobject, deleted, data FROM records WHERE id = ? AND +org_id = ?",
            (record_id, org_id),
        ).fetchone()
        return StoredRecord(row[0], bool(row[1]), json.loads(row[2])) if row else None

    def get_many(self, org_id: str, ids: Iterable[str]) -> dict[str, StoredRecord]:
        """Records by id, in insertion order (the order unordered queries return)."""
        rows: list[tuple[int, str, str, int, str]] = []
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            # `+org_id` and no ORDER BY: either would let SQLite walk every record of
            # the org (records_by_object) instead of probing the id index.
            sql = f"SELECT seq, id, sobject, deleted, data FROM records WHERE id IN ({marks})"  # noqa: S608
            rows.extend(self.db.conn.execute(sql + " AND +org_id = ?", (*chunk, org_id)))
        rows.sort()
        return {
            rid: StoredRecord(sobject, bool(deleted), json.loads(data))
            for _, rid, sobject, deleted, data in rows
        }

    def lookup(self, org_id: str, sobject: str, field: str, values: Iterable[str]) -> list[str]:
        """Ids of live records whose indexed `field` equals one of `values`, any case."""
        keys = list({v.lower() for v in values})
        ids: list[str] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id FROM record_keys WHERE value IN ({marks})"  # noqa: S608 - marks only
            sql += " AND org_id = ? AND sobject = ? AND field = ?"
            ids.extend(r[0] for r in self.db.conn.execute(sql, (*chunk, org_id, sobject, field)))
        return ids

    def scan(self, org_id: str, sobject: str, include_deleted: bool = False) -> Iterator[Record]:
        sql = "SELECT data FROM records WHERE org_id = ? AND sobject = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        for (data,) in self.db.conn.execute(sql + " ORDER BY seq", (org_id, sobject)):
            yield json.loads(data)

    def next_counter(self, org_id: str, name: str, start: int = 1) -> int:
        row = self.db.conn.execute(
            "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT (org_id, name) "
            "DO UPDATE SET value = value + 1 RETURNING value",
            (org_id, name, start),
        ).fetchone()
        return int(row[0])

    def _key_rows(self, org_id: str, obj: ObjectDef, record: Record) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        for f in obj.indexed_fields:
            value = record.get(f.name)
            if value is not None and value != "":
                rows.append((org_id, obj.name, f.name, str(value).lower(), record["Id"]))
        key = match_key(record) if obj.name in PERSONS else None
        if key is not None:
            rows.append((org_id, obj.name, MATCH_KEY, key, record["Id"]))
        return rows

    def _index(self, org_id: str, obj: ObjectDef, record: Record) -> None:
        rows = self._key_rows(org_id, obj, record)
        if rows:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO record_keys VALUES (?, ?, ?, ?, ?)", rows
            )

    def _unindex(self, record_id: str, org_id: str, sobject: str) -> None:
        self.db.conn.execute(
            "DELETE FROM record_keys WHERE id = ? AND org_id = ? AND sobject = ?",
            (record_id, org_id, sobject),
        )
