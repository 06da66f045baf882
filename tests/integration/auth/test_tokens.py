"""Access tokens over request/reply against the emulator: expiry and refresh, revocation,
a burst of callers causing one refresh, Salesforce unreachable."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import Callable

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from chat_contracts.auth import TokenGrantedReply, token_fingerprint
from chat_runtime.request_reply import Reply, RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    AuthTopics,
    RunningAuth,
    ask,
    connect_tenant,
    delete_topic,
    extra_topic,
    granted,
    read_all,
    refused,
    settings_for,
)
from tests.reply_safety import probe


def client(emulator: SalesforceEmulator, reply: TokenGrantedReply) -> Salesforce:
    return Salesforce(
        instance_url=reply.instance_url,
        session_id=reply.access_token.get_secret_value(),
        session=emulator.http_session(),
    )


async def refreshes(auth: RunningAuth, tenant: str) -> float:
    return await auth.metric(
        "chat_salesforce_calls_total", operation="oauth_refresh", outcome="ok", tenant=tenant
    )


async def test_expired_session_the_caller_names_the_token_and_gets_a_fresh_one(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
) -> None:
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    first = granted(await ask(rr, topics.requests, tenant))
    assert await refreshes(auth, tenant) == 0  # the connect's own token is served
    sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/expire-sessions").raise_for_status()
    with pytest.raises(SalesforceExpiredSession):
        client(sf_emulator, first).query("SELECT Id FROM Account")
    # Without naming it, the cached token is served (auth cannot know it died)...
    assert granted(await ask(rr, topics.requests, tenant)).access_token == first.access_token
    # ...naming it refreshes once.
    fingerprint = token_fingerprint(first.access_token.get_secret_value())
    second = granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=fingerprint))
    assert second.access_token != first.access_token
    assert client(sf_emulator, second).query("SELECT Id FROM Account")["done"] is True
    assert await refreshes(auth, tenant) == 1
    # The page shows when the token last worked.
    async with auth.http() as web:
        status = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": "Bearer integration-admin-token"},
        )
    assert status.json()["last_refreshed_at"] > status.json()["connected_at"]


async def test_a_hundred_concurrent_callers_with_a_dead_token_cause_one_refresh(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
) -> None:
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    dead = granted(await ask(rr, topics.requests, tenant))
    sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/expire-sessions").raise_for_status()
    fingerprint = token_fingerprint(dead.access_token.get_secret_value())
    replies = await asyncio.gather(
        *(
            ask(rr, topics.requests, tenant, rejected_token_fingerprint=fingerprint)
            for _ in range(100)
        )
    )
    tokens = {granted(r).access_token.get_secret_value() for r in replies}
    assert len(tokens) == 1
    assert dead.access_token.get_secret_value() not in tokens
    assert await refreshes(auth, tenant) == 1


async def test_revoked_at_salesforce_marks_the_tenant_revoked_once_until_reconnected(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
    kafka_bootstrap: str,
) -> None:
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    token = granted(await ask(rr, topics.requests, tenant))
    revoke = sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/revoke-refresh-tokens")
    assert revoke.json()["revoked"] >= 1
    fingerprint = token_fingerprint(token.access_token.get_secret_value())
    reply = refused(
        await ask(rr, topics.requests, tenant, rejected_token_fingerprint=fingerprint), "revoked"
    )
    assert "invalid_grant" in reply.message
    calls = await auth.metric(
        "chat_salesforce_calls_total", operation="oauth_refresh", outcome="http_400", tenant=tenant
    )
    # Later callers are told at once, without asking Salesforce again.
    for _ in range(3):
        refused(await ask(rr, topics.requests, tenant, force_refresh=True), "revoked")
    assert calls == await auth.metric(
        "chat_salesforce_calls_total", operation="oauth_refresh", outcome="http_400", tenant=tenant
    )
    events = [
        json.loads(r.value)
        for r in await read_all(kafka_bootstrap, topics.connections)
        if r.key == tenant.encode() and r.value
    ]
    assert [e["kind"] for e in events].count("revoked") == 1
    assert next(e for e in events if e["kind"] == "revoked")["error"] == "invalid_grant"
    async with auth.http() as web:
        status = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": "Bearer integration-admin-token"},
        )
    assert status.json()["state"] == "revoked"
    # Connecting again is the cure.
    page = await connect_tenant(auth, sf_emulator, org, tenant)
    assert "Connected to Salesforce." in page.page.text
    fresh = granted(await ask(rr, topics.requests, tenant))
    assert client(sf_emulator, fresh).query("SELECT Id FROM Lead")["done"] is True


async def test_salesforce_unreachable_is_refresh_failed_never_revoked(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    auth: RunningAuth,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
    keys: dict[str, str],
) -> None:
    await connect_tenant(auth, sf_emulator, new_org(), tenant)
    # A second replica, whose Salesforce is down (nothing listens on its login port),
    # answering its own request topic and sharing the token store.
    requests = await extra_topic(kafka_bootstrap, partitions=1)
    dead = "https://127.0.0.1:9"
    settings = settings_for(
        kafka_bootstrap,
        sf_emulator,
        topics,
        keys=keys,
        group=f"auth-down-{uuid.uuid4().hex[:6]}",
        token_requests_topic=requests,
        sf_login_url=dead,
        sf_sandbox_login_url=f"{dead}/sandbox",
        refresh_attempts=3,
    )
    down = await RunningAuth(settings, io.StringIO()).start()
    try:
        started = time.monotonic()
        reply = refused(await ask(rr, requests, tenant), "refresh_failed")
        assert "3 attempt(s)" in reply.message
        assert "unreachable" in reply.message
        assert time.monotonic() - started < 10
        # Within the cool-down the next caller is answered at once.
        refused(await ask(rr, requests, tenant), "refresh_failed")
        assert (
            await down.metric(
                "chat_salesforce_calls_total",
                operation="oauth_refresh",
                outcome="unreachable",
                tenant=tenant,
            )
            == 3
        )
    finally:
        await down.stop()
        await delete_topic(kafka_bootstrap, requests)
    events = [
        json.loads(r.value)
        for r in await read_all(kafka_bootstrap, topics.connections)
        if r.key == tenant.encode() and r.value
    ]
    failed = [e for e in events if e["kind"] == "refresh_failed"]
    assert failed
    assert failed[0]["error"] == "unreachable"
    assert failed[0]["will_retry"] is True
    assert "revoked" not in [e["kind"] for e in events]
    # The healthy replica still serves the tenant.
    granted(await ask(rr, topics.requests, tenant))


async def test_bad_requests_are_answered_not_redelivered(
    auth: RunningAuth, rr: RequestReplyClient, topics: AuthTopics
) -> None:
    for body in (b"{not json", b'{"tenant_id": "a|b"}', b'{"force_refresh": true}'):
        reply = await rr.request(topics.requests, body, timeout=20)
        assert reply.json()["code"] == "validation"
    # The partition is not stuck behind them.
    refused(await ask(rr, topics.requests, "never-connected"), "not_connected")


async def test_replies_never_go_to_data_topics_nor_wait_behind_a_vanished_caller(
    kafka_bootstrap: str, auth: RunningAuth, topics: AuthTopics
) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    body = json.dumps({"tenant_id": tenant}).encode()

    def check(reply: Reply) -> None:
        assert reply.json()["code"] == "not_connected"  # answered: it was read and handled

    await probe(kafka_bootstrap, topics.requests, body, tenant.encode(), check)
    skipped = await auth.metric(
        "rr_responder_skipped_total", reason="bad_reply_to", topic=topics.requests
    )
    assert skipped == 1
