"""API request counting per org over a rolling 24 hours, by hour bucket and resource, and
the hours an org spent over its allocation ("bursts", counted over 30 days)."""

from __future__ import annotations

import time
from collections import defaultdict

from sf_emulator.store.db import Database

WINDOW_HOURS = 24
BURST_WINDOW_HOURS = 30 * 24


def _hour(now: float | None = None) -> int:
    return int((now if now is not None else time.time()) // 3600)


class UsageMeter:
    """Counts are written through to SQLite; the per-hour totals are cached in memory."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._hours: dict[str, dict[int, int]] = {}

    def _buckets(self, org_id: str) -> dict[int, int]:
        buckets = self._hours.get(org_id)
        if buckets is None:
            buckets = defaultdict(int)
            for hour, calls in self.db.conn.execute(
                "SELECT hour, SUM(calls) FROM api_usage WHERE org_id = ? AND hour > ? "
                "GROUP BY hour",
                (org_id, _hour() - WINDOW_HOURS),
            ):
                buckets[hour] = calls
            self._hours[org_id] = buckets
        return buckets

    def used(self, org_id: str) -> int:
        floor = _hour() - WINDOW_HOURS
        return sum(n for h, n in self._buckets(org_id).items() if h > floor)

    def count(self, org_id: str, resource: str) -> int:
        """Count one call and return the new rolling total."""
        hour = _hour()
        buckets = self._buckets(org_id)  # loaded before the insert, or it counts twice
        self.db.conn.execute(
            "INSERT INTO api_usage VALUES (?, ?, ?, 1) ON CONFLICT (org_id, hour, resource) "
            "DO UPDATE SET calls = calls + 1",
            (org_id, hour, resource),
        )
        buckets[hour] += 1
        return self.used(org_id)

    def by_resource(self, org_id: str) -> dict[str, int]:
        rows = self.db.conn.execute(
            "SELECT resource, SUM(calls) FROM api_usage WHERE org_id = ? AND hour > ? "
            "GROUP BY resource ORDER BY resource",
            (org_id, _hour() - WINDOW_HOURS),
        )
        return {r: n for r, n in rows}

    def mark_burst(self, org_id: str) -> None:
        """Note that a call was served over the allocation this hour."""
        self.db.conn.execute(
            "INSERT INTO api_bursts VALUES (?, ?) ON CONFLICT DO NOTHING", (org_id, _hour())
        )

    def bursts(self, org_id: str) -> int:
        """Hours of the last 30 days in which calls were served over the allocation."""
        row = self.db.conn.execute(
            "SELECT COUNT(*) FROM api_bursts WHERE org_id = ? AND hour > ?",
            (org_id, _hour() - BURST_WINDOW_HOURS),
        ).fetchone()
        return int(row[0])

    def reset(self, org_id: str) -> None:
        self.db.conn.execute("DELETE FROM api_usage WHERE org_id = ?", (org_id,))
        self.db.conn.execute("DELETE FROM api_bursts WHERE org_id = ?", (org_id,))
        self._hours.pop(org_id, None)
