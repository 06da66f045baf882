"""SchemaCache (per tenant, TTL, refresh on miss), the HTTP session's CA pinning and proxies,
and a call that gets no answer."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from chat_runtime.metrics import build_metrics, new_registry
from chat_salesforce import (
    AccessToken,
    GatewayOptions,
    HttpOptions,
    InvalidType,
    SalesforceGateway,
    SalesforceHttp,
    SchemaCache,
    TransportError,
    http,
)


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
    trusted: list[str | None] = []
    monkeypatch.setattr("ssl.create_default_context", lambda cafile=None: trusted.append(cafile))
    http._proxy.cache_clear()
    SalesforceHttp(HttpOptions(ca_file=str(ca), timeout_s=3))
    SalesforceHttp(HttpOptions())
    assert trusted == [str(ca), "/somewhere/else.pem"]
    assert http.proxy_for("https://acme.my.salesforce.com/x") == "http://proxy.example:3128"
    assert http.proxy_for("https://127.0.0.1:8800/x") is None
    with pytest.raises(FileNotFoundError):
        SalesforceHttp(HttpOptions(ca_file=str(tmp_path / "missing.pem")))
    http._proxy.cache_clear()


class _FixedToken:
    def __init__(self, instance_url: str) -> None:
        self.token = AccessToken("t1", "secret-token", instance_url, "00D", "005")

    async def get(self, tenant_id: str) -> AccessToken:
        return self.token

    async def refresh(self, tenant_id: str, rejected: AccessToken) -> AccessToken:
        return self.token


async def test_no_answer_is_a_transport_error_counted_once() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    metrics = build_metrics(new_registry())
    gateway = SalesforceGateway(
        _FixedToken(f"https://127.0.0.1:{port}"),
        GatewayOptions(http=HttpOptions(timeout_s=2)),
        metrics=metrics,
    )
    try:
        with pytest.raises(TransportError):
            await gateway.create("t1", "Lead", {"LastName": "x"})
    finally:
        await gateway.aclose()
    calls = metrics.salesforce_calls.labels("t1", "create", "transport_error")
    assert calls._value.get() == 1  # a write without an answer is not repeated


async def test_a_redirect_is_not_followed_with_the_token() -> None:
    from aiohttp import web

    seen: list[str | None] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/moved", moved)
    app.router.add_get("/elsewhere", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = SalesforceHttp(HttpOptions(timeout_s=5))
    try:
        answer = await client.request("GET", f"http://127.0.0.1:{port}/moved", token="secret")
    finally:
        await client.close()
        await runner.cleanup()
    assert answer.status == 302
    assert seen == []


async def test_a_write_on_a_connection_the_server_had_closed_goes_again_on_a_new_one() -> None:
    # A pooled connection the server closed while idle fails as the request is written:
    # nothing reached Salesforce, so even a write goes again at once; a call without an
    # answer after it was sent is not repeated (the test above).
    import aiohttp

    metrics = build_metrics(new_registry())
    gateway = SalesforceGateway(
        _FixedToken("https://sf.test"), GatewayOptions(http=HttpOptions()), metrics=metrics
    )
    sent: list[str] = []

    async def request(method: str, url: str, **kw: Any) -> http.HttpAnswer:
        sent.append(method)
        if len(sent) == 1:
            raise aiohttp.ClientOSError(32, f"Can not write request body for {url}")
        return http.HttpAnswer(201, {}, b'{"id": "00Q000000000001AAA", "success": true}')

    gateway._http.request = request  # type: ignore[method-assign]
    assert await gateway.create("t1", "Lead", {"LastName": "x"}) == "00Q000000000001AAA"
    assert sent == ["POST", "POST"]
    ok = metrics.salesforce_calls.labels("t1", "create", "ok")
    failed = metrics.salesforce_calls.labels("t1", "create", "transport_error")
    assert (ok._value.get(), failed._value.get()) == (1, 0)  # one call reached Salesforce


def test_pooled_connections_are_dropped_before_a_server_would_close_them() -> None:
    # Servers close idle keep-alive connections (uvicorn after 5 s, load balancers later); a
    # client that keeps them longer reuses closed ones.
    assert HttpOptions().keepalive_s < 5
