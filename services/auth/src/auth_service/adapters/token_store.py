"""The refresh-token store: the compacted topic `auth.refresh-tokens.v1`, materialised
(see `compacted.CompactedTenantTable` for how reading, following and writing work)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auth_service.adapters.compacted import CompactedTenantTable
from auth_service.adapters.kafka import KafkaWriter
from auth_service.adapters.ports import RecordListener
from chat_contracts.auth import RefreshTokenRecord


class KafkaTokenStore(CompactedTenantTable[RefreshTokenRecord]):
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        writer: KafkaWriter,
        *,
        client_id: str = "auth",
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            bootstrap_servers,
            topic,
            writer,
            model=RefreshTokenRecord,
            label="refresh-token record",
            client_id=f"{client_id}-token-store",
            kafka_options=kafka_options,
        )
        self._listeners: list[RecordListener] = []

    def records(self) -> Iterable[RefreshTokenRecord]:
        return list(self._values.values())

    def listen(self, listener: RecordListener) -> None:
        self._listeners.append(listener)

    async def put(self, record: RefreshTokenRecord) -> None:
        await self._write(record.tenant_id, record)

    async def delete(self, tenant_id: str) -> None:
        """Write the tenant's tombstone; compaction removes the token for good later."""
        await self._write(tenant_id, None)

    def _changed(self, tenant_id: str, value: RefreshTokenRecord | None) -> None:
        for listener in self._listeners:
            listener(tenant_id, value)
