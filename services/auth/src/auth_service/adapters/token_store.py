"""The refresh-token store: the compacted topic `auth.refresh-tokens.v1`, materialised
(see `chat_runtime.compacted.CompactedTable` for how reading, following and writing work)."""

from __future__ import annotations

from collections.abc import Iterable

from auth_service.adapters.ports import RecordListener
from chat_contracts.auth import RefreshTokenRecord
from chat_runtime.compacted import CompactedTable, TableWriter
from chat_runtime.kafka import KafkaKit


class KafkaTokenStore(CompactedTable[RefreshTokenRecord]):
    def __init__(self, kit: KafkaKit, topic: str, writer: TableWriter) -> None:
        super().__init__(
            kit,
            topic,
            model=RefreshTokenRecord,
            label="refresh-token record",
            role="token-store",
            writer=writer,
        )
        self._listeners: list[RecordListener] = []

    def records(self) -> Iterable[RefreshTokenRecord]:
        return self.values()

    def listen(self, listener: RecordListener) -> None:
        self._listeners.append(listener)

    async def put(self, record: RefreshTokenRecord) -> None:
        await self.write(record.tenant_id, record)

    async def delete(self, tenant_id: str) -> None:
        """Write the tenant's tombstone; compaction removes the token for good later."""
        await self.write(tenant_id, None)

    def _changed(self, tenant_id: str, value: RefreshTokenRecord | None) -> None:
        for listener in self._listeners:
            listener(tenant_id, value)
