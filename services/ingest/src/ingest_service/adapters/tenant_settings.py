"""Each tenant's default phone region, from the compacted `tenant.settings.v1` (through the
shared `chat_runtime.tenant_settings.TenantSettingsReader`: read whole at start, readiness
waits for it, then followed). A tenant without settings gets the configured default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chat_runtime.tenant_settings import TenantSettingsReader


class TenantSettingsRegions(TenantSettingsReader):
    """`PhoneRegions` backed by the settings topic."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic: str,
        default_region: str,
        client_id: str,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            bootstrap_servers, topic=topic, client_id=client_id, kafka_options=client_options
        )
        self._default = default_region

    def region(self, tenant_id: str) -> str:
        """The tenant's `default_phone_region`, or the configured default."""
        settings = self.get(tenant_id)
        return settings.default_phone_region if settings is not None else self._default
