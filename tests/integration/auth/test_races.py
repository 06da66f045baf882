"""Races between a refresh in flight and an admin changing the connection, on the real broker
and the emulator: the newer connection always wins."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client import CollectorRegistry

from auth_service.adapters.ports import TokenResponse
from auth_service.adapters.salesforce import HttpSalesforce
from chat_contracts.auth import token_fingerprint
from chat_runtime.metrics import build_metrics
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    ADMIN_TOKEN,
    AuthTopics,
    RunningAuth,
    ask,
    connect_tenant,
    granted,
    settings_for,
)


class HeldRefreshes(HttpSalesforce):
    """The real Salesforce adapter, whose refreshes wait at a gate while it is closed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = asyncio.Event()

    async def refresh(self, *, tenant_id: str, sandbox: bool, refresh_token: str) -> TokenResponse:
        if not self.gate.is_set():
            self.waiting.set()
            await self.gate.wait()
        return await super().refresh(
            tenant_id=tenant_id, sandbox=sandbox, refresh_token=refresh_token
        )


@pytest.fixture
async def held_auth(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    topics: AuthTopics,
    keys: dict[str, str],
) -> AsyncIterator[tuple[RunningAuth, HeldRefreshes]]:
    settings = settings_for(
        kafka_bootstrap, sf_emulator, topics, keys=keys, group=f"auth-{uuid.uuid4().hex[:8]}"
    )
    suite = build_metrics(CollectorRegistry())
    salesforce = HeldRefreshes(
        settings,
        calls=suite.salesforce_calls,
        api_remaining=suite.salesforce_api_remaining,
        api_limit=suite.salesforce_api_limit,
    )
    running = await RunningAuth(settings, io.StringIO(), salesforce).start()
    try:
        yield running, salesforce
    finally:
        await running.stop()
        await salesforce.aclose()


async def test_a_refresh_refused_after_the_admin_reconnected_does_not_revoke_the_new_connection(
    held_auth: tuple[RunningAuth, HeldRefreshes],
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
) -> None:
    auth, salesforce = held_auth
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    first = granted(await ask(rr, topics.requests, tenant))
    # A caller reports the access token refused: a refresh starts with the stored refresh
    # token, and is held.
    salesforce.gate.clear()
    rejected = token_fingerprint(first.access_token.get_secret_value())
    stale = asyncio.create_task(
        ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected)
    )
    await asyncio.wait_for(salesforce.waiting.wait(), 20)
    # Meanwhile the admin connects the tenant again, which revokes the old refresh token.
    await connect_tenant(auth, sf_emulator, org, tenant)
    salesforce.gate.set()  # the held refresh now meets invalid_grant, for the old token
    # The caller is answered from the connection now in force...
    granted(await stale)
    async with auth.http() as web:
        status = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    # ...which stays connected: the stale refusal does not mark the tenant revoked.
    assert status.json()["state"] == "connected"
    second = granted(await ask(rr, topics.requests, tenant))
    again = token_fingerprint(second.access_token.get_secret_value())
    granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=again))
