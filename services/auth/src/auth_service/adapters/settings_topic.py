"""Tenant settings on the compacted `tenant.settings.v1`, keyed by tenant, materialised
like the refresh-token store (see `compacted.CompactedTenantTable`). A tombstone removes
the tenant's settings, so the defaults apply again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth_service.adapters.compacted import CompactedTenantTable
from auth_service.adapters.kafka import KafkaWriter
from chat_contracts.settings import TenantSettings


class KafkaSettingsStore(CompactedTenantTable[TenantSettings]):
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
            model=TenantSettings,
            label="tenant settings",
            client_id=f"{client_id}-settings-store",
            kafka_options=kafka_options,
        )

    async def put(self, settings: TenantSettings) -> None:
        await self._write(settings.tenant_id, settings)
