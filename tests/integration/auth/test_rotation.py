"""Refresh-token rotation on the real broker and the strict emulator: a rotated token is
never lost, or the next refresh would reuse the old one and Salesforce would revoke the
whole family (the tenant would have to reconnect)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from auth_service.adapters.token_store import KafkaTokenStore
from auth_service.handlers.refresh import Refresher
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
    granted,
    settings_for,
)


async def status_of(auth: RunningAuth, tenant: str) -> str:
    async with auth.http() as web:
        answer = await web.get(
            "/admin/status",
            params={"tenant": tenant},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    return str(answer.json()["state"])


async def test_a_rotated_token_kafka_did_not_store_is_still_the_one_used_next(
    auth: RunningAuth,
    sf_emulator: SalesforceEmulator,
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    topics: AuthTopics,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = new_org()
    await connect_tenant(auth, sf_emulator, org, tenant)
    put = KafkaTokenStore.put
    failures = iter([True])

    async def flaky(self: KafkaTokenStore, record: Any) -> None:
        if next(failures, False):
            raise KafkaTimeoutError("broker unreachable")
        await put(self, record)

    monkeypatch.setattr(KafkaTokenStore, "put", flaky)
    token = granted(await ask(rr, topics.requests, tenant))
    for _ in range(3):
        # The caller says the token was refused: a refresh, which rotates. The first
        # rotated token is not stored; the next refresh must still use it, not the one
        # Salesforce saw used (that would revoke the whole family).
        rejected = token_fingerprint(token.access_token.get_secret_value())
        token = granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected))
    assert await status_of(auth, tenant) == "connected"


class Crashed(Exception):
    """Stands for the process dying right after the rotated token was stored."""


async def test_a_crash_between_storing_the_rotated_token_and_serving_loses_nothing(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    keys: dict[str, str],
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Topics of its own: the module's auth instance must not answer these requests too.
    async with auth_topics(kafka_bootstrap) as topics:
        await crash_then_restart(
            kafka_bootstrap, sf_emulator, topics, keys, new_org, tenant, rr, monkeypatch
        )


async def crash_then_restart(
    kafka_bootstrap: str,
    sf_emulator: SalesforceEmulator,
    topics: AuthTopics,
    keys: dict[str, str],
    new_org: Callable[..., EmulatorOrg],
    tenant: str,
    rr: RequestReplyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(
        kafka_bootstrap, sf_emulator, topics, keys=keys, group=f"auth-{uuid.uuid4().hex[:8]}"
    )
    first = await RunningAuth(settings, io.StringIO()).start()
    try:
        org = new_org()
        await connect_tenant(first, sf_emulator, org, tenant)
        token = granted(await ask(rr, topics.requests, tenant))
        worked = Refresher._worked

        async def then_crash(self: Refresher, record: Any, response: Any) -> None:
            await worked(self, record, response)  # the rotated token is stored...
            raise Crashed  # ...and the access token never served

        monkeypatch.setattr(Refresher, "_worked", then_crash)
        rejected = token_fingerprint(token.access_token.get_secret_value())
        lost = await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected)
        assert not isinstance(lost, TokenGrantedReply)
    finally:
        await first.stop()
    monkeypatch.undo()
    # The next process reads the rotated token from the topic and refreshes with it.
    second = await RunningAuth(settings, io.StringIO()).start()
    try:
        granted(await ask(rr, topics.requests, tenant, rejected_token_fingerprint=rejected))
        assert await status_of(second, tenant) == "connected"
    finally:
        await second.stop()
