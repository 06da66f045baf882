"""`TenantSettingsTable`: each tenant's settings, from the compacted `tenant.settings.v1`.

One `compacted.CompactedTable` for every service: crm-sync reads the settings, ingest its
phone regions, auth (given a writer) also writes them from its settings page and API.
Read whole at start (readiness waits for it), then followed, so a change applies to the
next chats without a restart. A tombstone removes the tenant (`removed()`), so the
defaults apply again.
"""

from __future__ import annotations

from chat_contracts.settings import TenantSettings
from chat_contracts.topics import TENANT_SETTINGS
from chat_runtime.compacted import CompactedTable, TableWriter
from chat_runtime.kafka import KafkaKit


class TenantSettingsTable(CompactedTable[TenantSettings]):
    """`start()` loads the topic, `get(tenant)` answers from memory, `put()` writes."""

    def __init__(
        self,
        kit: KafkaKit,
        *,
        topic: str = TENANT_SETTINGS.name,
        writer: TableWriter | None = None,
    ) -> None:
        super().__init__(
            kit,
            topic,
            model=TenantSettings,
            label="tenant settings",
            role="settings",
            writer=writer,
            # Readers run on defaults rather than not at all; the writer needs the topic.
            required=writer is not None,
        )

    async def put(self, settings: TenantSettings) -> None:
        """Write a tenant's settings."""
        await self.write(settings.tenant_id, settings)
