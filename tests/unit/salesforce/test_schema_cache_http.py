"""SchemaCache (per tenant, TTL, refresh on miss) and the HTTP session's CA pinning."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from chat_salesforce import HttpOptions, InvalidType, SalesforceSession, SchemaCache


class FakeDescriber:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fields = ["Id", "LastName"]

    async def describe_global(self, tenant_id: str) -> dict[str, Any]:
        self.calls.append((tenant_id, "*"))
        await asyncio.sleep(0.01)
        return {"sobjects": [{"name": "Lead", "createable": True}]}

    async def describe(self, tenant_id: str, sobject_name: str) -> dict[str, Any]:
        self.calls.append((tenant_id, sobject_name))
        return {"name": sobject_name, "fields": [{"name": f} for f in self.fields]}


async def test_cached_per_tenant_with_single_flight() -> None:
    describer = FakeDescriber()
    cache = SchemaCache(describer)
    schemas = await asyncio.gather(*(cache.describe("t1", "lead") for _ in range(5)))
    assert {s.name for s in schemas} == {"Lead"}
    await cache.describe("t2", "Lead")
    assert describer.calls == [("t1", "*"), ("t1", "Lead"), ("t2", "*"), ("t2", "Lead")]
    with pytest.raises(InvalidType):
        await cache.describe("t1", "Nope")


async def test_a_missing_field_refetches_once_the_entry_is_old_enough() -> None:
    now = [0.0]
    describer = FakeDescriber()
    cache = SchemaCache(describer, ttl_s=600, refresh_on_miss_s=30, clock=lambda: now[0])
    await cache.describe("t1", "Lead")
    describer.fields.append("New__c")
    schema = await cache.describe("t1", "Lead", expect_paths=["New__c"])
    assert schema.field("New__c") is None  # too fresh to refetch
    now[0] = 31
    schema = await cache.describe("t1", "Lead", expect_paths=["New__c"])
    assert schema.field("New__c") is not None
    now[0] = 700
    await cache.describe("t1", "Lead")
    assert describer.calls.count(("t1", "Lead")) == 3


def test_a_pinned_ca_beats_requests_ca_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = SalesforceSession(HttpOptions(ca_file=str(ca), timeout_s=3))
    far = session.merge_environment_settings(
        "https://acme.my.salesforce.com/x", {}, None, None, None
    )
    near = session.merge_environment_settings("https://127.0.0.1:8800/x", {}, None, None, None)
    assert far["verify"] == near["verify"] == str(ca)
    assert far["proxies"].get("https") == "http://proxy.example:3128"
    assert not near["proxies"].get("https")
    unpinned = SalesforceSession(HttpOptions())
    assert unpinned.verify == "/somewhere/else.pem"
    with pytest.raises(FileNotFoundError):
        SalesforceSession(HttpOptions(ca_file=str(tmp_path / "missing.pem")))
