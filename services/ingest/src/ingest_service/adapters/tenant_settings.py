"""Each tenant's default phone region, from the compacted `tenant.settings.v1` (through the
shared `chat_runtime.tenant_settings.TenantSettingsTable`: read whole at start, readiness
waits for it, then followed). A tenant without settings gets the configured default."""

from __future__ import annotations

from chat_runtime.kafka import KafkaKit
from chat_runtime.tenant_settings import TenantSettingsTable


class TenantSettingsRegions(TenantSettingsTable):
    """`PhoneRegions` backed by the settings topic."""

    def __init__(self, kit: KafkaKit, *, topic: str, default_region: str) -> None:
        super().__init__(kit, topic=topic)
        self._default = default_region

    def region(self, tenant_id: str) -> str:
        """The tenant's `default_phone_region`, or the configured default."""
        settings = self.get(tenant_id)
        return settings.default_phone_region if settings is not None else self._default
