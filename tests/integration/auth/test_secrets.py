"""Plaintext tokens never reach a topic, a log line, a metric or an error message.

A whole connection lifecycle runs with DEBUG logging (connect, serve, expire and
refresh, revoke, reconnect, disconnect); then every captured log line, every byte of
auth's topics, the metrics page, and every error reply and status answer is scanned for
each refresh token (read back by unsealing the topic's records with the test's key)
and each access token auth handed out.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from auth_service.domain.token_records import open_token
from chat_contracts.auth import RefreshTokenRecord, token_fingerprint
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.auth.support import (
    ADMIN_TOKEN,
    AuthTopics,
    RunningAuth,
    ask,
    connect_tenant,
    granted,
    read_all,
    refused,
    settings_for,
)


@pytest.fixture(scope="module")
async def auth(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    topics: AuthTopics,
    keys: dict[str, str],
    logs: io.StringIO,
) -> AsyncIterator[RunningAuth]:
    settings = settings_for(
        kafka_bootstrap,
        sf_emulator,
        topics,
        keys=keys,
        group=f"auth-secrets-{uuid.uuid4().hex[:6]}",
        log_level="DEBUG",
    )
    running = await RunningAuth(settings, logs).start()
    try:
        yield running
    finally:
        await running.stop()


async def test_no_plaintext_token_anywhere(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
    kafka_bootstrap: str,
    logs: io.StringIO,
) -> None:
    org = new_org()
    access_tokens = {org.access_token}
    answers: list[str] = []  # error replies, status JSON, pages

    def admin() -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    connected = await connect_tenant(auth, sf_emulator, org, tenant)
    answers.append(connected.page.text)
    first = granted(await ask(rr, topics.requests, tenant))
    sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/expire-sessions")
    fingerprint = token_fingerprint(first.access_token.get_secret_value())
    second = granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=fingerprint))
    third = granted(await ask(rr, topics.requests, tenant, force_refresh=True))
    access_tokens |= {r.access_token.get_secret_value() for r in (first, second, third)}
    sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/revoke-refresh-tokens")
    current = token_fingerprint(third.access_token.get_secret_value())
    revoked = await ask(rr, topics.requests, tenant, rejected_token_fingerprint=current)
    answers.append(refused(revoked, "revoked").model_dump_json())
    async with auth.http() as web:
        answers.append(
            (await web.get("/admin/status", params={"tenant": tenant}, headers=admin())).text
        )
        answers.append(
            (
                await web.post(
                    "/admin/permission-check", params={"tenant": tenant}, headers=admin()
                )
            ).text
        )
    again = await connect_tenant(auth, sf_emulator, org, tenant)
    answers.append(again.page.text)
    access_tokens.add(
        granted(await ask(rr, topics.requests, tenant)).access_token.get_secret_value()
    )
    async with auth.http() as web:
        answers.append(
            (await web.post("/admin/disconnect", params={"tenant": tenant}, headers=admin())).text
        )
        answers.append(
            (await web.get("/admin/status", params={"tenant": tenant}, headers=admin())).text
        )
        metrics = (await web.get("/metrics")).text
    answers.append(
        refused(await ask(rr, topics.requests, tenant), "not_connected").model_dump_json()
    )

    ring = auth.settings.key_ring()
    token_records = await read_all(kafka_bootstrap, topics.refresh_tokens)
    refresh_tokens = {
        open_token(RefreshTokenRecord.model_validate_json(r.value), ring)
        for r in token_records
        if r.key == tenant.encode() and r.value is not None
    }
    assert len(refresh_tokens) >= 3  # one per connect, and the rotated ones refreshes stored
    secrets = refresh_tokens | access_tokens
    assert len(access_tokens) >= 4  # the seeded one, the connects', the refreshed one

    records = [
        r
        for topic in (topics.refresh_tokens, topics.connections, topics.requests)
        for r in await read_all(kafka_bootstrap, topic)
    ]
    topic_bytes = b"".join(
        (r.key or b"") + (r.value or b"") + b"".join(v for _, v in r.headers) for r in records
    )
    log_text = logs.getvalue()
    assert "permission check" in log_text
    assert "tenant connected" in log_text
    for secret in secrets:
        assert secret.encode() not in topic_bytes
        assert secret not in log_text
        assert secret not in metrics
        for answer in answers:
            assert secret not in answer
