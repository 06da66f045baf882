"""auth's use cases built by `bootstrap()` on in-memory fakes: the wiring is production's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry

from auth_service.bootstrap import bootstrap
from auth_service.config import Settings
from auth_service.domain.keyring import KeyRing
from auth_service.domain.token_records import new_record
from auth_service.handlers.connect import ConnectFlow
from auth_service.handlers.permissions import PermissionChecks
from auth_service.handlers.refresh import Refresher
from auth_service.handlers.tokens import TokenService
from auth_service.metrics import AuthMetrics
from chat_contracts.auth import RefreshTokenRecord
from tests.unit.auth.fakes import (
    INSTANCE,
    ORG_ID,
    USER_ID,
    FakeClock,
    FakeSalesforce,
    MemoryAudit,
    MemoryEvents,
    MemorySettings,
    MemoryStore,
    b64key,
)

TENANT = "t-1"
REFRESH_TOKEN = "5Aep861.unit-test-refresh-token"


@dataclass
class World:
    store: MemoryStore
    sf: FakeSalesforce
    events: MemoryEvents
    audit: MemoryAudit
    clock: FakeClock
    ring: KeyRing
    metrics: AuthMetrics
    refresher: Refresher
    tokens: TokenService
    permissions: PermissionChecks
    connect: ConnectFlow

    async def connected(
        self, tenant: str = TENANT, token: str = REFRESH_TOKEN
    ) -> RefreshTokenRecord:
        record = new_record(
            tenant_id=tenant,
            refresh_token=token,
            ring=self.ring,
            org_id=ORG_ID,
            user_id=USER_ID,
            username="admin@acme.test",
            instance_url=INSTANCE,
            sandbox=False,
            now=self.clock.now(),
        )
        await self.store.put(record)
        return record

    def count(self, metric: str, label: str) -> float:
        value = self.metrics.suite.registry.get_sample_value(metric, {"outcome": label})
        return value or 0.0


def make_world(**policy: float) -> World:
    """auth's use cases as `bootstrap()` wires them, on in-memory fakes."""
    store, sf, events, clock = MemoryStore(), FakeSalesforce(), MemoryEvents(), FakeClock()
    audit = MemoryAudit()
    settings = Settings(
        client_id="3MVG9.app",
        client_secret="unit-test-secret",
        admin_token="unit-admin",
        link_secret="unit-links",
        encryption_keys={"k1": b64key()},
        refresh_attempts=int(policy.get("attempts", 3)),
        refresh_backoff_s=0.001,
        refresh_backoff_max_s=0.002,
        access_token_max_age_s=policy.get("max_age_s", 3600.0),
    )
    service = bootstrap(
        settings,
        salesforce=sf,
        clock=clock,
        store=store,
        settings_store=MemorySettings(),
        events=events,
        audit=audit,
        registry=CollectorRegistry(),
    )
    return World(
        store,
        sf,
        events,
        audit,
        clock,
        service.ring,
        service.metrics,
        service.refresher,
        service.tokens,
        service.permissions,
        service.connect,
    )


@pytest.fixture
def world() -> World:
    return make_world()
