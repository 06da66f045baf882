"""Fixtures: a fake auth on a throwaway token topic, a token source and a gateway."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chat_runtime.metrics import ServiceMetrics, build_metrics, new_registry
from chat_runtime.request_reply import RequestReplyClient
from chat_salesforce import AuthTokenSource, GatewayOptions, HttpOptions, SalesforceGateway
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth
from tests.kafka_helpers import temp_topic


@pytest.fixture
async def token_topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    async with temp_topic(kafka_bootstrap, "test-tokens") as name:
        yield name


@pytest.fixture
async def auth(
    kafka_bootstrap: str, token_topic: str, sf_emulator: SalesforceEmulator
) -> AsyncIterator[FakeAuth]:
    async with FakeAuth(kafka_bootstrap, token_topic, sf_emulator) as fake:
        yield fake


@pytest.fixture
async def tokens(
    kafka_bootstrap: str, token_topic: str, auth: FakeAuth
) -> AsyncIterator[AuthTokenSource]:
    async with RequestReplyClient(kafka_bootstrap, name="sf-test") as client:
        yield AuthTokenSource(client, topic=token_topic, timeout_s=10)


@pytest.fixture
def metrics() -> ServiceMetrics:
    return build_metrics(new_registry())


@pytest.fixture
async def gateway_factory(
    tokens: AuthTokenSource, sf_emulator_ca: str, metrics: ServiceMetrics
) -> AsyncIterator[Callable[..., SalesforceGateway]]:
    made: list[SalesforceGateway] = []

    def make(connections: int = 32, **options: Any) -> SalesforceGateway:
        http = HttpOptions(ca_file=sf_emulator_ca, timeout_s=10, connections=connections)
        opts = GatewayOptions(http=http, **options)
        gateway = SalesforceGateway(tokens, opts, metrics=metrics)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.aclose()


@pytest.fixture
def connected(
    auth: FakeAuth, sf_org_factory: Callable[..., EmulatorOrg]
) -> Callable[..., tuple[str, EmulatorOrg]]:
    """`connect(**org_spec)` -> (tenant id, org): a fresh org the fake auth serves."""

    def connect(**spec: object) -> tuple[str, EmulatorOrg]:
        tenant = f"t{uuid.uuid4().hex[:10]}"
        org = sf_org_factory(name="SF Org", **spec)
        auth.connect(tenant, org)
        return tenant, org

    return connect
