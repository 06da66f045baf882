"""`SalesforceGateway`: simple-salesforce for many tenants, off the event loop.

simple-salesforce is synchronous, so every call runs in one bounded thread pool, never on
the event loop (a `LifoThreadPool`: a call reuses the most recently idle thread, not the
coldest); a per-tenant semaphore caps how many of those threads one tenant can hold
(one slow org does not starve the others, and no org sees more concurrent calls than it
allows). A tenant's slot is released when its thread finishes, not when an impatient
caller stops waiting, so the cap holds even under timeouts.

Each call gets the tenant's token from a `TokenSource`; on `INVALID_SESSION_ID` it asks
for a new one (naming the refused one) and retries once. Transient refusals
(`UNABLE_TO_LOCK_ROW`, `SERVER_UNAVAILABLE`, 5xx: nothing was done) are retried with a
short backoff. Every HTTP answer feeds `chat_salesforce_calls_total` and the API budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError as SimpleSalesforceError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from chat_runtime.metrics import ServiceMetrics
from chat_salesforce.errors import (
    InvalidSession,
    SalesforceApiError,
    from_simple_salesforce,
    from_transport,
)
from chat_salesforce.http import HttpOptions, SalesforceSession
from chat_salesforce.limits import HEADER, ApiBudget
from chat_salesforce.operations import SalesforceCall, SalesforceOperations, T
from chat_salesforce.tokens import AccessToken, TokenSource
from chat_salesforce.workers import LifoThreadPool


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """Sizing and behaviour of a gateway."""

    api_version: str = "59.0"
    threads: int = 32
    """Worker threads for all tenants together."""
    per_tenant: int = 8
    """Concurrent calls one tenant may have running."""
    transient_retries: int = 2
    retry_backoff_s: float = 0.1
    max_clients: int = 10_000
    """simple-salesforce clients kept (one per tenant, least recently used dropped)."""
    http: HttpOptions = field(default_factory=HttpOptions)


class _CallContext(threading.local):
    tenant: str = ""
    operation: str = ""


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
        self._context = _CallContext()
        http = self.options.http
        pool = max(http.pool_size, self.options.threads)
        self._session = SalesforceSession(
            HttpOptions(http.ca_file, http.timeout_s, pool), on_response=self._on_response
        )
        self._pool = LifoThreadPool(self.options.threads, thread_name_prefix="salesforce")
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._clients: OrderedDict[str, tuple[str, Salesforce]] = OrderedDict()

    async def call(
        self, tenant_id: str, operation: str, fn: SalesforceCall[T], *, retry: bool = True
    ) -> T:
        """Run `fn(client)` for the tenant in the pool; raises `SalesforceAccessError`s.

        `operation` labels the metrics (query, create, describe, ...). `retry=False` skips
        the transient retries (the token retry on INVALID_SESSION_ID always happens).
        """
        token = await self._tokens.get(tenant_id)
        try:
            return await self._attempts(token, operation, fn, retry)
        except InvalidSession:
            fresh = await self._tokens.refresh(tenant_id, token)
            return await self._attempts(fresh, operation, fn, retry)

    def close(self) -> None:
        """Stop the worker threads (queued calls are cancelled) and close connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    async def _attempts(
        self, token: AccessToken, operation: str, fn: SalesforceCall[T], retry: bool
    ) -> T:
        try:
            return await self._run(token, operation, fn)
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
                return await self._run(token, operation, fn)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _run(self, token: AccessToken, operation: str, fn: SalesforceCall[T]) -> T:
        client = self._client_for(token)
        limit = self._limits.get(token.tenant_id)
        if limit is None:
            limit = self._limits[token.tenant_id] = asyncio.Semaphore(self.options.per_tenant)
        await limit.acquire()
        loop = asyncio.get_running_loop()
        try:
            future: Future[T] = self._pool.submit(
                self._invoke, token.tenant_id, operation, client, fn
            )
        except BaseException:
            limit.release()
            raise
        future.add_done_callback(lambda _: _release_from_thread(loop, limit))
        return await asyncio.wrap_future(future)

    def _invoke(
        self, tenant_id: str, operation: str, client: Salesforce, fn: SalesforceCall[T]
    ) -> T:
        self._context.tenant, self._context.operation = tenant_id, operation
        try:
            return fn(client)
        except SimpleSalesforceError as exc:
            raise from_simple_salesforce(exc) from None
        except requests.RequestException as exc:
            self._count(tenant_id, operation, "transport_error")
            raise from_transport(exc) from None

    def _client_for(self, token: AccessToken) -> Salesforce:
        cached = self._clients.get(token.tenant_id)
        if cached is not None and cached[0] == token.value:
            self._clients.move_to_end(token.tenant_id)
            return cached[1]
        client = Salesforce(
            instance_url=token.instance_url,
            session_id=token.value,
            session=self._session,
            version=self.options.api_version,
            object_pairs_hook=dict,
        )
        self._clients[token.tenant_id] = (token.value, client)
        while len(self._clients) > self.options.max_clients:
            self._clients.popitem(last=False)
        return client

    def _on_response(self, response: requests.Response) -> None:
        tenant = self._context.tenant
        if not tenant:
            return
        self.budget.record(tenant, response.headers.get(HEADER))
        self._count(tenant, self._context.operation, _outcome(response.status_code))

    def _count(self, tenant: str, operation: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.salesforce_calls.labels(tenant, operation, outcome).inc()


def _outcome(status: int) -> str:
    if status < 300:
        return "ok"
    return {401: "invalid_session", 403: "refused", 404: "not_found"}.get(
        status, "server_error" if status >= 500 else "client_error"
    )


def _release_from_thread(loop: asyncio.AbstractEventLoop, limit: asyncio.Semaphore) -> None:
    # A call finishing after the loop closed (shutdown) has no slot left to give back.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(limit.release)
