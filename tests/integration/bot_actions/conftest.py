"""Fixtures: bot-actions in-process on throwaway topics, a fake auth, emulator orgs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from faststream.asgi import AsgiFastStream

from bot_actions.app import create_app
from bot_actions.config import Settings
from chat_bot_client.client import BotActionsClient
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth
from tests.kafka_helpers import temp_topic


@pytest.fixture
async def token_topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    async with temp_topic(kafka_bootstrap, "test-tokens", partitions=2) as name:
        yield name


@pytest.fixture
async def request_topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    async with temp_topic(kafka_bootstrap, "test-bot", partitions=3) as name:
        yield name


@pytest.fixture
async def auth(
    kafka_bootstrap: str, token_topic: str, sf_emulator: SalesforceEmulator
) -> AsyncIterator[FakeAuth]:
    async with FakeAuth(kafka_bootstrap, token_topic, sf_emulator) as fake:
        yield fake


@pytest.fixture
def bot_settings(
    kafka_bootstrap: str, request_topic: str, token_topic: str, sf_emulator_ca: str
) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        request_topic=request_topic,
        token_topic=token_topic,
        group_id=f"bot-test-{uuid.uuid4().hex[:8]}",
        salesforce_ca_file=Path(sf_emulator_ca),
        shutdown_timeout_s=5.0,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def bot_app(bot_settings: Settings, auth: FakeAuth) -> AsyncIterator[AsgiFastStream]:
    app = create_app(bot_settings)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def rr(kafka_bootstrap: str) -> AsyncIterator[RequestReplyClient]:
    async with RequestReplyClient(kafka_bootstrap, name="bot-test") as client:
        yield client


@pytest.fixture
def bot(bot_app: AsgiFastStream, rr: RequestReplyClient, request_topic: str) -> BotActionsClient:
    return BotActionsClient(rr, topic=request_topic, timeout=15)


@pytest.fixture
def tenant(auth: FakeAuth, sf_org_factory: Callable[..., EmulatorOrg]) -> str:
    """A tenant connected to a fresh org with a few records."""
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    org = sf_org_factory(
        name="Bot Org",
        records={
            "Account": [{"Name": "Acme"}],
            "Lead": [
                {"LastName": "Doe", "Company": "Acme", "Email": "jo@example.com"},
                {"LastName": "Roe", "Company": "Beta", "Email": "ro@example.com"},
            ],
        },
    )
    auth.connect(tenant_id, org)
    return tenant_id
