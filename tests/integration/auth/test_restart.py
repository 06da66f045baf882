"""auth keeps nothing but the compacted topic: a restarted replica serves every tenant
from it, and keys rotate without losing a tenant."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable

import pytest

from auth_service.config import Settings
from chat_contracts.auth import RefreshTokenRecord
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.conftest import new_key
from tests.integration.auth.support import (
    AuthTopics,
    RunningAuth,
    ask,
    connect_tenant,
    granted,
    read_all,
    settings_for,
)

K1, K2 = new_key(), new_key()


@pytest.fixture(scope="module")
def group() -> str:
    return f"auth-restart-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def start(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    topics: AuthTopics,
    group: str,
    logs: io.StringIO,
) -> Callable[..., RunningAuth]:
    def make(keys: dict[str, str], active: str = "") -> RunningAuth:
        settings: Settings = settings_for(
            kafka_bootstrap, sf_emulator, topics, keys=keys, active_key=active, group=group
        )
        return RunningAuth(settings, logs)

    return make


@pytest.fixture
async def connected_tenants(
    start: Callable[..., RunningAuth],
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
) -> list[tuple[str, EmulatorOrg]]:
    """Two tenants (one production, one sandbox) connected by an auth sealing with k1."""
    first = await start({"k1": K1}).start()
    tenants = []
    try:
        for sandbox in (False, True):
            tenant, org = f"t-{uuid.uuid4().hex[:8]}", new_org(sandbox=sandbox)
            await connect_tenant(first, sf_emulator, org, tenant)
            tenants.append((tenant, org))
    finally:
        await first.stop()
    return tenants


async def latest(bootstrap: str, topic: str, tenant: str) -> RefreshTokenRecord:
    values = [r.value for r in await read_all(bootstrap, topic) if r.key == tenant.encode()]
    assert values
    assert values[-1] is not None
    return RefreshTokenRecord.model_validate_json(values[-1])


async def test_a_restarted_replica_serves_every_tenant_from_the_topic_one_refresh_each(
    start: Callable[..., RunningAuth],
    connected_tenants: list[tuple[str, EmulatorOrg]],
    rr: RequestReplyClient,
    topics: AuthTopics,
) -> None:
    again = await start({"k1": K1}).start()
    try:
        async with again.http() as web:
            assert (await web.get("/readyz")).json()["checks"]["token_store"] is True
        for tenant, org in connected_tenants:
            # A cold cache and a burst of callers: one refresh with the stored token.
            replies = await asyncio.gather(*(ask(rr, topics.requests, tenant) for _ in range(20)))
            assert {granted(r).org_id for r in replies} == {org.org_id}
            assert len({granted(r).access_token.get_secret_value() for r in replies}) == 1
            assert (
                await again.metric(
                    "chat_salesforce_calls_total",
                    operation="oauth_refresh",
                    outcome="ok",
                    tenant=tenant,
                )
                == 1
            )
    finally:
        await again.stop()


async def test_key_rotation_keeps_every_tenant(
    start: Callable[..., RunningAuth],
    connected_tenants: list[tuple[str, EmulatorOrg]],
    rr: RequestReplyClient,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    for tenant, _ in connected_tenants:
        assert (await latest(kafka_bootstrap, topics.refresh_tokens, tenant)).key_id == "k1"
    # Step 1: add k2 and make it active; k1 stays to open the old records, which are
    # re-sealed with k2 at start.
    rotating = await start({"k1": K1, "k2": K2}, active="k2").start()
    try:
        for tenant, org in connected_tenants:
            assert granted(await ask(rr, topics.requests, tenant)).org_id == org.org_id
            assert (await latest(kafka_bootstrap, topics.refresh_tokens, tenant)).key_id == "k2"
    finally:
        await rotating.stop()
    # Step 2: k1 is retired; nothing needs it any more.
    rotated = await start({"k2": K2}).start()
    try:
        for tenant, org in connected_tenants:
            reply = granted(await ask(rr, topics.requests, tenant, force_refresh=True))
            assert reply.org_id == org.org_id
    finally:
        await rotated.stop()
