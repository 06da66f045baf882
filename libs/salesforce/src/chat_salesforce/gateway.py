"""`SalesforceGateway`: Salesforce's REST API for many tenants, on the event loop.

Calls go out over one aiohttp connection pool (`http.SalesforceHttp`: why not
simple-salesforce in threads is explained there) shared by all tenants; a per-tenant
semaphore caps how many calls one tenant has in flight (one slow org does not take every
connection, and no org sees more concurrent calls than it allows).

Each call gets the tenant's token from a `TokenSource`; on `INVALID_SESSION_ID` it asks
for a new one (naming the refused one) and retries once. Transient refusals
(`UNABLE_TO_LOCK_ROW`, `SERVER_UNAVAILABLE`, 5xx: nothing was done) are retried with a
short backoff; a call that got no answer is not (a write may have happened). Every HTTP
answer feeds `chat_salesforce_calls_total` and the API budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from chat_runtime import tracing
from chat_runtime.metrics import ServiceMetrics
from chat_runtime.tracing import Span
from chat_salesforce.errors import (
    InvalidSession,
    SalesforceApiError,
    from_answer,
    from_transport,
)
from chat_salesforce.http import HttpAnswer, HttpOptions, SalesforceHttp
from chat_salesforce.limits import HEADER, ApiBudget
from chat_salesforce.operations import SalesforceOperations
from chat_salesforce.tokens import AccessToken, TokenSource


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """Sizing and behaviour of a gateway."""

    api_version: str = "59.0"
    per_tenant: int = 8
    """Concurrent calls one tenant may have in flight."""
    transient_retries: int = 2
    retry_backoff_s: float = 0.1
    http: HttpOptions = field(default_factory=HttpOptions)
    """CA trust, timeout and connection pool (shared by all tenants)."""


class SalesforceGateway(SalesforceOperations):
    """Calls Salesforce for any tenant: `await gateway.query(tenant, soql)`."""

    def __init__(
        self,
        tokens: TokenSource,
        options: GatewayOptions | None = None,
        *,
        metrics: ServiceMetrics | None = None,
        budget: ApiBudget | None = None,
    ) -> None:
        self.options = options or GatewayOptions()
        self.budget = budget or ApiBudget(metrics)
        self._tokens = tokens
        self._metrics = metrics
        self._http = SalesforceHttp(self.options.http)
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._base = f"/services/data/v{self.options.api_version}/"

    async def rest(
        self,
        tenant_id: str,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        """One REST call for the tenant (`path` relative to `/services/data/vXX.X/`, or
        absolute from `/services/`); its JSON answer, None when empty. Raises
        `SalesforceAccessError`s.

        `operation` labels the metrics (query, create, describe, ...). `retry=False` skips
        the transient retries (the token retry on INVALID_SESSION_ID always happens).
        """
        call = _Call(operation, method, path, params, json, headers)
        token = await self._tokens.get(tenant_id)
        try:
            return await self._attempts(token, call, retry)
        except InvalidSession:
            fresh = await self._tokens.refresh(tenant_id, token)
            return await self._attempts(fresh, call, retry)

    async def instance_url(self, tenant_id: str) -> str:
        """The tenant's instance URL (where its records open), from its current token."""
        return (await self._tokens.get(tenant_id)).instance_url

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.close()

    async def _attempts(self, token: AccessToken, call: _Call, retry: bool) -> Any:
        try:
            return await self._run(token, call)
        except SalesforceApiError as exc:
            if not (retry and exc.retryable and self.options.transient_retries):
                raise
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.transient_retries),
            wait=wait_exponential(multiplier=self.options.retry_backoff_s, max=2),
            retry=retry_if_exception(lambda e: isinstance(e, SalesforceApiError) and e.retryable),
            reraise=True,
        )
        await asyncio.sleep(self.options.retry_backoff_s)
        async for attempt in retrying:
            with attempt:
                return await self._run(token, call)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _run(self, token: AccessToken, call: _Call) -> Any:
        if tracing.enabled():
            return await self._traced(token, call)
        return await self._call(token, call, None)

    async def _traced(self, token: AccessToken, call: _Call) -> Any:
        # A CLIENT span per HTTP call: each is one API request against the org's budget.
        # The URL goes without its query (SOQL holds visitors' emails and phones).
        url = token.instance_url.rstrip("/") + self._path(call)
        attributes = {
            "http.request.method": call.method,
            "url.full": url,
            "server.address": urlsplit(url).hostname or "",
            "salesforce.operation": call.operation,
            "salesforce.tenant_id": token.tenant_id,
            "salesforce.api_calls": 1,
        }
        with tracing.client_span(f"{call.method} salesforce {call.operation}", attributes) as span:
            return await self._call(token, call, span)

    def _path(self, call: _Call) -> str:
        return call.path if call.path.startswith("/") else self._base + call.path

    async def _call(self, token: AccessToken, call: _Call, span: Span | None) -> Any:
        tenant = token.tenant_id
        limit = self._limits.get(tenant)
        if limit is None:
            limit = self._limits[tenant] = asyncio.Semaphore(self.options.per_tenant)
        async with limit:
            for attempt in (1, 2):
                try:
                    answer = await self._http.request(
                        call.method,
                        token.instance_url.rstrip("/") + self._path(call),
                        token=token.value,
                        params=call.params,
                        json=call.json,
                        headers=call.headers,
                    )
                    break
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if attempt == 1 and _not_sent(exc):
                        continue  # nothing reached Salesforce: again, on a new connection
                    self._count(tenant, call.operation, "transport_error")
                    tracing.failed(span, type(exc).__name__)
                    raise from_transport(exc) from None
        limit_info = answer.headers.get(HEADER)
        self.budget.record(tenant, limit_info)
        self._count(tenant, call.operation, _outcome(answer.status))
        if span is not None:
            span.set_attribute("http.response.status_code", answer.status)
            if limit_info:
                span.set_attribute("salesforce.limit_info", limit_info)
            if answer.status >= 400:
                tracing.failed(span, str(answer.status))
        return _result(answer)

    def _count(self, tenant: str, operation: str, outcome: str) -> None:
        if self._metrics is not None:
            label = self._metrics.tenant_label(tenant)
            self._metrics.salesforce_calls.labels(label, operation, outcome).inc()


@dataclass(frozen=True, slots=True)
class _Call:
    operation: str
    method: str
    path: str
    params: Mapping[str, str] | None
    json: Any
    headers: Mapping[str, str] | None


def _not_sent(exc: BaseException) -> bool:
    """Whether the request failed as it was being written, so that no server can have acted
    on it: a pooled connection the server had closed while idle (aiohttp tells it only by
    its message). Any method may go again; a call that was sent and got no answer may not."""
    text = str(exc)
    if isinstance(exc, aiohttp.ClientOSError):
        return "Can not write request body" in text
    return type(exc) is aiohttp.ClientConnectionError and "Failed to send bytes into" in text


def _result(answer: HttpAnswer) -> Any:
    """The JSON of a successful answer; the typed error of any other."""
    try:
        content = answer.json()
    except ValueError:
        content = answer.content.decode("utf-8", "replace")
        if answer.status < 300:
            raise from_answer(answer.status, f"not JSON: {content[:200]}") from None
    if answer.status >= 300:
        raise from_answer(answer.status, content)
    return content


def _outcome(status: int) -> str:
    if status < 300:
        return "ok"
    return {401: "invalid_session", 403: "refused", 404: "not_found"}.get(
        status, "server_error" if status >= 500 else "client_error"
    )
