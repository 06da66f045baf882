"""Several auth replicas on one group, the real broker and the strict emulator (refresh
tokens rotate; a spent one used again revokes the whole family): however requests land
and whatever a replica has not read yet, no tenant is ever refreshed with a spent token.

Every replica here reads the refresh-token topic late (`late_token_stores`): the lag a
replica busy catching up, or just assigned a partition, really has, made long enough that
the test does not depend on who wins a race.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from auth_service.adapters.token_store import KafkaTokenStore
from chat_contracts.auth import TokenGrantedReply, token_fingerprint
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    ADMIN_TOKEN,
    AuthTopics,
    RunningAuth,
    ask,
    auth_topics,
    connect_tenant,
    eventually,
    granted,
    read_all,
    refused,
    settings_for,
)

LAG_S = 6.0


def late_token_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every replica applies what it reads from the refresh-token topic
    `LAG_S` late (its own writes it holds at once, as always)."""
    consume = KafkaTokenStore._consume

    def late(self: KafkaTokenStore, message: Any) -> None:
        asyncio.get_running_loop().call_later(LAG_S, consume, self, message)

    monkeypatch.setattr(KafkaTokenStore, "_consume", late)


@asynccontextmanager
async def replicas(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    topics: AuthTopics,
    keys: dict[str, str],
    **overrides: Any,
) -> AsyncIterator[list[RunningAuth]]:
    """Two auth replicas in one consumer group, on the same topics."""
    group = f"auth-{uuid.uuid4().hex[:8]}"
    started: list[RunningAuth] = []
    try:
        for _ in range(2):
            settings = settings_for(
                kafka_bootstrap, sf_emulator, topics, keys=keys, group=group, **overrides
            )
            started.append(await RunningAuth(settings, io.StringIO()).start())
        yield started
    finally:
        for running in started:
            await running.stop()


async def refreshed(running: RunningAuth) -> float:
    return await running.metric("auth_token_refreshes_total", outcome="ok")


async def owner_and_other(pair: list[RunningAuth]) -> tuple[RunningAuth, RunningAuth]:
    """(the replica that refreshed, the other); the request topic has one partition, so
    only the replica that owns it answers token requests."""
    a, b = pair
    counts = [await refreshed(a), await refreshed(b)]
    assert sorted(counts)[0] == 0 < sorted(counts)[1], counts
    return (a, b) if counts[0] else (b, a)


async def status_of(running: RunningAuth, tenant: str) -> dict[str, Any]:
    async with running.http() as web:
        answer = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    body: dict[str, Any] = answer.json()
    return body


async def connection_events(kafka_bootstrap: str, topics: AuthTopics, tenant: str) -> list[str]:
    records = await read_all(kafka_bootstrap, topics.connections)
    events = [json.loads(r.value) for r in records if r.value]
    return [e["kind"] for e in events if e["tenant_id"] == tenant]


async def still_connected(
    kafka_bootstrap: str,
    topics: AuthTopics,
    pair: list[RunningAuth],
    tenant: str,
    rr: RequestReplyClient,
    token: TokenGrantedReply,
) -> None:
    """The family was never revoked: no `revoked` event, every replica says connected,
    and one more refresh works."""
    assert "revoked" not in await connection_events(kafka_bootstrap, topics, tenant)
    for running in pair:
        assert (await status_of(running, tenant))["state"] == "connected"
    rejected = token_fingerprint(token.access_token.get_secret_value())
    granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected))


async def test_the_replica_taking_a_tenant_over_refreshes_with_the_token_the_other_rotated(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    keys: dict[str, str],
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        auth_topics(kafka_bootstrap, request_partitions=1) as topics,
        replicas(kafka_bootstrap, sf_emulator, topics, keys) as pair,
    ):
        await connect_tenant(pair[0], sf_emulator, new_org(), tenant)
        token = granted(await ask(rr, topics.requests, tenant))
        late_token_stores(monkeypatch)
        # A caller's token was refused: the replica owning the tenant refreshes, which
        # rotates the refresh token; the other has not read the rotated one yet...
        rejected = token_fingerprint(token.access_token.get_secret_value())
        token = granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected))
        owner, other = await owner_and_other(pair)
        # ...when the owner leaves (a rolling restart, a scale-down): the other takes the
        # partition over, and the next refresh is its.
        await owner.stop()
        rejected = token_fingerprint(token.access_token.get_secret_value())
        token = granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected))
        await still_connected(kafka_bootstrap, topics, [other], tenant, rr, token)


async def test_a_replica_not_owning_the_tenant_never_refreshes_it_around_an_expiry(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    keys: dict[str, str],
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    max_age = 1.0
    async with (
        auth_topics(kafka_bootstrap, request_partitions=1) as topics,
        replicas(
            kafka_bootstrap, sf_emulator, topics, keys, access_token_max_age_s=max_age
        ) as pair,
    ):
        await connect_tenant(pair[0], sf_emulator, new_org(), tenant)
        token = granted(await ask(rr, topics.requests, tenant))
        late_token_stores(monkeypatch)
        rejected = token_fingerprint(token.access_token.get_secret_value())
        token = granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected))
        _, other = await owner_and_other(pair)
        # Every cached access token is past its age now. An admin checks the permissions
        # on the page, served by the replica that does not own the tenant (the Service
        # balances HTTP over every replica), while callers ask the owner.
        await asyncio.sleep(max_age)
        async with other.http() as web:
            checked = web.post(
                "/admin/permission-check",
                params={"tenant": tenant},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            asked = ask(rr, topics.requests, tenant)
            check, reply = await asyncio.gather(checked, asked)
        assert check.status_code == 200, check.text
        token = granted(reply)
        assert await refreshed(other) == 0
        await still_connected(kafka_bootstrap, topics, pair, tenant, rr, token)


# Keep-alive: Salesforce expires a refresh token left unused for 30 days. The emulator ages
# the org's refresh tokens on request; auth's idle threshold is set to seconds here, so
# its sweep (by the owner only) runs within the test.
KEEPALIVE_AFTER_S = 2.0


async def age_refresh_tokens(sf_emulator: SalesforceEmulator, org: EmulatorOrg, days: int) -> None:
    aged = sf_emulator.call(
        "POST", f"/__admin/orgs/{org.org_id}/age-refresh-tokens", json={"days": days}
    )
    assert aged.status_code == 200, aged.text


async def test_the_owner_keeps_an_idle_tenant_alive_past_the_idle_expiry(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    keys: dict[str, str],
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
) -> None:
    async with (
        auth_topics(kafka_bootstrap, request_partitions=1) as topics,
        replicas(
            kafka_bootstrap,
            sf_emulator,
            topics,
            keys,
            keepalive_after_days=KEEPALIVE_AFTER_S / 86400,
            keepalive_interval_s=0.5,
        ) as pair,
    ):
        org = new_org()
        await connect_tenant(pair[0], sf_emulator, org, tenant)
        # Nobody asks for the tenant's token for 26 days...
        await age_refresh_tokens(sf_emulator, org, 26)
        aged_at = (await status_of(pair[0], tenant))["last_refreshed_at"]

        async def kept_alive() -> bool:
            status = await status_of(pair[0], tenant)
            return bool(status["last_refreshed_at"] > aged_at)

        await eventually(kept_alive)
        # ...nor for 5 more: 31 days since the connect, 5 since the keep-alive.
        await age_refresh_tokens(sf_emulator, org, 5)
        _, other = await owner_and_other(pair)
        assert await refreshed(other) == 0  # the owner alone keeps the tenant alive
        token = granted(await ask(rr, topics.requests, tenant))
        await still_connected(kafka_bootstrap, topics, pair, tenant, rr, token)


async def test_without_keepalive_an_idle_tenant_expires(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    keys: dict[str, str],
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
) -> None:
    async with (
        auth_topics(kafka_bootstrap, request_partitions=1) as topics,
        replicas(kafka_bootstrap, sf_emulator, topics, keys, keepalive_after_days=0) as pair,
    ):
        org = new_org()
        await connect_tenant(pair[0], sf_emulator, org, tenant)
        token = granted(await ask(rr, topics.requests, tenant))
        await age_refresh_tokens(sf_emulator, org, 31)
        rejected = token_fingerprint(token.access_token.get_secret_value())
        reply = await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected)
        refused(reply, "revoked")  # Salesforce: "expired access/refresh token"
