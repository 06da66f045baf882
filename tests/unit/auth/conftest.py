"""auth's use cases wired to in-memory fakes, as `create_app` wires the real adapters."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from prometheus_client import CollectorRegistry

from auth_service.domain.keyring import KeyRing
from auth_service.domain.records import new_record
from auth_service.domain.tokens import CachePolicy
from auth_service.handlers.connect import ConnectFlow
from auth_service.handlers.permissions import PermissionChecks
from auth_service.handlers.refresh import Refresher, RefreshPolicy
from auth_service.handlers.tokens import TokenService
from auth_service.metrics import AuthMetrics, build_auth_metrics
from chat_contracts.auth import RefreshTokenRecord
from tests.unit.auth.fakes import (
    INSTANCE,
    ORG_ID,
    USER_ID,
    FakeClock,
    FakeSalesforce,
    MemoryEvents,
    MemoryStore,
    ring,
)

TENANT = "t-1"
REFRESH_TOKEN = "5Aep861.unit-test-refresh-token"


@dataclass
class World:
    store: MemoryStore
    sf: FakeSalesforce
    events: MemoryEvents
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
            now=self.clock.wall(),
        )
        await self.store.put(record)
        return record

    def count(self, metric: str, label: str) -> float:
        value = self.metrics.suite.registry.get_sample_value(metric, {"outcome": label})
        return value or 0.0


def make_world(**policy: float) -> World:
    store, sf, events, clock, keys = (
        MemoryStore(),
        FakeSalesforce(),
        MemoryEvents(),
        FakeClock(),
        ring(),
    )
    metrics = build_auth_metrics(CollectorRegistry())
    refresher = Refresher(
        store=store,
        salesforce=sf,
        events=events,
        ring=keys,
        metrics=metrics,
        policy=RefreshPolicy(
            attempts=int(policy.get("attempts", 3)), backoff_s=0.001, backoff_max_s=0.002
        ),
        clock=clock,
    )
    tokens = TokenService(
        store=store,
        refresher=refresher,
        metrics=metrics,
        cache_policy=CachePolicy(max_age_s=policy.get("max_age_s", 3600.0)),
        clock=clock,
    )
    permissions = PermissionChecks(tokens=tokens, salesforce=sf, store=store, events=events)
    connect = ConnectFlow(
        ring=keys,
        salesforce=sf,
        store=store,
        events=events,
        tokens=tokens,
        permissions=permissions,
        metrics=metrics,
        clock=clock,
        state_ttl_s=600,
    )
    return World(store, sf, events, clock, keys, metrics, refresher, tokens, permissions, connect)


@pytest.fixture
def world() -> World:
    return make_world()
