"""The gateway and token source against the real broker, a fake auth and the emulator."""
# ruff: noqa: S608 - SOQL built from test constants and quote()d values, not SQL

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from chat_runtime.metrics import ServiceMetrics
from chat_salesforce import (
    AuthTokenSource,
    InvalidType,
    MalformedQuery,
    NotConnected,
    RequestLimitExceeded,
    RequiredFieldMissing,
    SalesforceGateway,
    SchemaCache,
    TokenUnavailable,
    TransientError,
    quote,
)
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth

Connect = Callable[..., tuple[str, EmulatorOrg]]
Factory = Callable[..., SalesforceGateway]


async def test_crud_query_describe_and_metrics(
    gateway_factory: Factory, connected: Connect, metrics: ServiceMetrics
) -> None:
    tenant, _ = connected()
    gateway = gateway_factory()
    lead = await gateway.create(tenant, "Lead", {"LastName": "Doe", "Company": "Acme"})
    await gateway.update(tenant, "Lead", lead, {"Company": "Beta"})
    result = await gateway.query(tenant, "SELECT Company FROM Lead WHERE Id = " + quote(lead))
    assert result["records"][0]["Company"] == "Beta"
    assert [r["Id"] for r in await gateway.query_all(tenant, "SELECT Id FROM Lead")] == [lead]
    schema = await SchemaCache(gateway).describe(tenant, "lead")
    assert [f.name for f in schema.required_fields] == ["LastName", "Company"]
    collections = await gateway.restful(
        tenant,
        "composite/sobjects",
        method="POST",
        json={"allOrNone": False, "records": [{"attributes": {"type": "Account"}, "Name": "A"}]},
    )
    assert collections[0]["success"]
    usage = gateway.budget.usage(tenant)
    assert usage is not None
    assert usage.used >= 5
    registry = metrics.registry
    assert (
        registry.get_sample_value("chat_salesforce_api_remaining", {"tenant": tenant})
        == usage.remaining
    )
    calls = {"tenant": tenant, "operation": "query", "outcome": "ok"}
    assert registry.get_sample_value("chat_salesforce_calls_total", calls) == 2


async def test_query_values_and_pages_travel_intact(
    gateway_factory: Factory, connected: Connect, sf_emulator: SalesforceEmulator
) -> None:
    tenant, org = connected()
    gateway = gateway_factory()
    email = "a+b&c=d#e%f@example.com"  # characters with a meaning in a query string
    lead = await gateway.create(
        tenant, "Lead", {"LastName": "Plus", "Company": "X", "Email": email}
    )
    found = await gateway.query(tenant, "SELECT Id FROM Lead WHERE Email = " + quote(email))
    assert [r["Id"] for r in found["records"]] == [lead]
    rows = [{"LastName": f"L{i}", "Company": "Co"} for i in range(2100)]
    sf_emulator.call(
        "POST", f"/__admin/orgs/{org.org_id}/sobjects/Lead/bulk-load", json={"records": rows}
    ).raise_for_status()
    first = await gateway.query(tenant, "SELECT Id FROM Lead")
    assert not first["done"]  # a second page, reached by its absolute nextRecordsUrl
    assert len(await gateway.query_all(tenant, "SELECT Id FROM Lead")) == 2101


async def test_errors_are_typed(gateway_factory: Factory, connected: Connect) -> None:
    tenant, _ = connected()
    gateway = gateway_factory()
    with pytest.raises(RequiredFieldMissing) as missing:
        await gateway.create(tenant, "Lead", {"LastName": "x"})
    assert missing.value.fields == ("Company",)
    with pytest.raises(InvalidType):
        await gateway.query(tenant, "SELECT Id FROM Nope")
    with pytest.raises(MalformedQuery):
        await gateway.query(tenant, "SELECT Id FROM Lead WHERE")
    with pytest.raises(NotConnected):
        await gateway.query("never-connected", "SELECT Id FROM Lead")


async def test_an_expired_session_is_refreshed_once_naming_it(
    gateway_factory: Factory, connected: Connect, auth: FakeAuth, sf_emulator: SalesforceEmulator
) -> None:
    tenant, org = connected()
    gateway = gateway_factory()
    await gateway.query(tenant, "SELECT Id FROM Lead")
    sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/expire-sessions").raise_for_status()
    results = await asyncio.gather(
        *(gateway.query(tenant, "SELECT Id FROM Lead") for _ in range(5))
    )
    assert all(r["totalSize"] == 0 for r in results)
    rejected = [r for r in auth.requests if r.rejected_token_fingerprint]
    assert len(rejected) == 1  # five refusals, one refresh


async def test_tenants_never_reach_each_others_org(
    gateway_factory: Factory, connected: Connect
) -> None:
    first, _ = connected(records={"Lead": [{"LastName": "Mine", "Company": "A"}]})
    second, _ = connected()
    gateway = gateway_factory()
    assert (await gateway.query(first, "SELECT Id FROM Lead"))["totalSize"] == 1
    assert (await gateway.query(second, "SELECT Id FROM Lead"))["totalSize"] == 0


async def test_a_token_auth_gave_for_another_tenant_is_never_used(
    tokens: AuthTokenSource, auth: FakeAuth, connected: Connect
) -> None:
    mine, _ = connected(records={"Lead": [{"LastName": "Mine", "Company": "A"}]})
    theirs, _ = connected()
    answer = auth.reply
    # A responder that mixes tenants up (a bug, or a record on the wrong reply topic).
    auth.reply = lambda request: answer(request.model_copy(update={"tenant_id": theirs}))  # type: ignore[method-assign]
    with pytest.raises(TokenUnavailable, match="another tenant"):
        await tokens.get(mine)
    auth.reply = answer  # type: ignore[method-assign]
    token = await tokens.get(mine)  # nothing wrong was cached
    assert token.tenant_id == mine
    assert token.value == auth.tokens[mine]


async def test_per_tenant_limit_holds_and_other_tenants_pass(
    gateway_factory: Factory, connected: Connect, sf_emulator: SalesforceEmulator
) -> None:
    slow, org = connected()
    fast, _ = connected()
    gateway = gateway_factory(per_tenant=2, connections=8)
    await gateway.query(slow, "SELECT Id FROM Lead")
    await gateway.query(fast, "SELECT Id FROM Lead")
    sf_emulator.set_faults(org.org_id, latency_ms=300)
    started = time.monotonic()
    slow_calls = asyncio.gather(*(gateway.query(slow, "SELECT Id FROM Lead") for _ in range(4)))
    await asyncio.sleep(0.05)
    await gateway.query(fast, "SELECT Id FROM Lead")
    fast_done = time.monotonic() - started
    await slow_calls
    assert fast_done < 0.3  # not queued behind the slow tenant
    assert time.monotonic() - started >= 0.6  # 4 calls, 2 at a time, 300 ms each


async def test_connections_cap_every_tenant_together(
    gateway_factory: Factory, connected: Connect, sf_emulator: SalesforceEmulator
) -> None:
    tenant, org = connected()
    gateway = gateway_factory(per_tenant=8, connections=2)
    await gateway.query(tenant, "SELECT Id FROM Lead")
    sf_emulator.set_faults(org.org_id, latency_ms=200)
    started = time.monotonic()
    await asyncio.gather(*(gateway.query(tenant, "SELECT Id FROM Lead") for _ in range(4)))
    assert time.monotonic() - started >= 0.4  # 4 calls on 2 connections, 200 ms each


async def test_transient_errors_are_retried_then_raised(
    gateway_factory: Factory, connected: Connect, sf_emulator: SalesforceEmulator
) -> None:
    tenant, org = connected()
    gateway = gateway_factory(retry_backoff_s=0.01, transient_retries=8)
    await gateway.query(tenant, "SELECT Id FROM Lead")
    sf_emulator.set_faults(org.org_id, error_503_rate=1.0)
    with pytest.raises(TransientError):
        await gateway.query(tenant, "SELECT Id FROM Lead")
    sf_emulator.set_faults(org.org_id, error_503_rate=0.3, seed=7)
    results = [await gateway.query(tenant, "SELECT Id FROM Lead") for _ in range(10)]
    assert all(r["done"] for r in results)


async def test_an_exhausted_budget_is_its_own_error(
    gateway_factory: Factory, connected: Connect, sf_emulator: SalesforceEmulator
) -> None:
    tenant, _org = connected(api_limit=3, api_limit_blocks=True)
    gateway = gateway_factory()
    for _ in range(3):
        await gateway.query(tenant, "SELECT Id FROM Lead")
    with pytest.raises(RequestLimitExceeded):
        await gateway.query(tenant, "SELECT Id FROM Lead")


async def test_token_requests_go_to_auth_once_per_tenant(
    tokens: AuthTokenSource, connected: Connect, auth: FakeAuth
) -> None:
    tenant, _ = connected()
    got: list[Any] = await asyncio.gather(*(tokens.get(tenant) for _ in range(10)))
    assert len({t.value for t in got}) == 1
    assert [r.tenant_id for r in auth.requests] == [tenant]
