"""What the console shows: a tenant's chats, one chat, its dead letters, its health.

Reads only, each scoped to the one tenant the caller was let into; the store's calls run on
worker threads. Times come back as aware UTC datetimes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console_service.adapters.store import ChatQuery, Store, utc, window_start
from console_service.domain.history import Row

CHAT_TIMES = ("updated_at", "ended_at", "retry_at")


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    slots: list[str]
    values: dict[str, dict[str, float]]


class History:
    """The console's reads."""

    def __init__(self, store: Store, *, daily_api_limit: int) -> None:
        self.store = store
        self.daily_api_limit = daily_api_limit

    async def known(self, tenant_id: str) -> bool:
        return await asyncio.to_thread(self.store.tenant_exists, tenant_id)

    async def chats(self, query: ChatQuery) -> list[Row]:
        rows = await asyncio.to_thread(self.store.chats, query)
        return [utc(r, *CHAT_TIMES) for r in rows]

    async def chat(self, tenant_id: str, chat_id: str) -> tuple[list[Row], list[Row]]:
        chats = await asyncio.to_thread(self.store.chat, tenant_id, chat_id)
        attempts = await asyncio.to_thread(self.store.attempts, tenant_id, chat_id)
        return [utc(r, *CHAT_TIMES) for r in chats], [utc(a, "at") for a in attempts]

    async def dead_letters(self, tenant_id: str, reason: str | None, limit: int) -> list[Row]:
        rows = await asyncio.to_thread(
            self.store.dead_letters, tenant_id, reason=reason, limit=limit
        )
        return [utc(r, "failed_at", "replay_requested_at") for r in rows]

    async def reasons(self, tenant_id: str) -> dict[str, int]:
        return await asyncio.to_thread(self.store.letter_reasons, tenant_id)

    async def connection(self, tenant_id: str) -> Row | None:
        row = await asyncio.to_thread(self.store.connection, tenant_id)
        return utc(row, "at") if row is not None else None

    async def health(self, tenant_id: str, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        day, month = window_start(now, 1), window_start(now, 30)
        connection = await self.connection(tenant_id)
        return {
            "tenant": tenant_id,
            "connection": {
                "state": connection["state"] if connection else "unknown",
                "at": connection["at"].isoformat() if connection else None,
                "detail": connection["detail"] if connection else None,
            },
            "connection_row": connection,
            "counts": {
                "24h": await asyncio.to_thread(self.store.counts, tenant_id, day),
                "30d": await asyncio.to_thread(self.store.counts, tenant_id, month),
            },
            "api_calls": {
                "24h": await asyncio.to_thread(self.store.api_calls, tenant_id, day),
                "daily_limit": self.daily_api_limit,
            },
            "dead_letters": await asyncio.to_thread(self.store.letter_count, tenant_id),
        }

    async def charts(self, tenant_id: str, now: datetime | None = None) -> list[Chart]:
        """Outcomes per hour over 24 h, per day over 30 days, API calls per day."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        hours = [(now - timedelta(hours=h)).strftime("%Y-%m-%d %H") for h in range(23, -1, -1)]
        days = [(now - timedelta(days=d)).strftime("%Y-%m-%d") for d in range(29, -1, -1)]
        hourly = await asyncio.to_thread(self.store.series, tenant_id, window_start(now, 1), "hour")
        daily = await asyncio.to_thread(self.store.series, tenant_id, window_start(now, 30), "day")
        return [
            Chart("Chats per hour, last 24 h", hours, hourly),
            Chart("Chats per day, last 30 days", days, daily),
            Chart("API calls per day against the daily limit", days, daily),
        ]

    async def audit(self, tenant_id: str, limit: int = 100) -> list[Row]:
        rows = await asyncio.to_thread(self.store.audit, tenant_id, limit)
        return [utc(r, "at") for r in rows]

    async def commands(self, tenant_id: str, limit: int = 50) -> list[Row]:
        rows = await asyncio.to_thread(self.store.commands, tenant_id, limit)
        return [utc(r, "sent_at", "replied_at") for r in rows]
