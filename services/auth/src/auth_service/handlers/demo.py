"""`make run` and benches only: connect emulator tenants without clicking.

When the store has no record for the demo tenant, refresh with the seed's refresh token
(waiting for the emulator, which honcho starts beside auth), then store it sealed as a
connect would. An existing record, or a token the emulator no longer accepts (after a
disconnect from the page), leaves the tenant to be connected from the page.
`bootstrap_bulk` does the same for every tenant of a bench's seed, a few at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from auth_service.adapters.ports import SalesforceOAuth, TokenStore
from auth_service.config import DemoTenant
from auth_service.domain.errors import SalesforceAuthError, TransientError
from auth_service.handlers.connect import ConnectFlow
from chat_runtime.logging import get_logger

log = get_logger(__name__)


async def bootstrap_demo(
    demo: DemoTenant,
    *,
    store: TokenStore,
    salesforce: SalesforceOAuth,
    connect: ConnectFlow,
    wait_s: float = 60.0,
) -> bool:
    """Connect the demo tenant if it has no connection yet; True when it did."""
    tenant = demo.tenant_id
    if store.get(tenant) is not None:
        log.info("demo tenant already has a connection", tenant_id=tenant)
        return False
    token = demo.refresh_token.get_secret_value()
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(wait_s),
            wait=wait_fixed(1.0),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        ):
            with attempt:
                response = await salesforce.refresh(
                    tenant_id=tenant, sandbox=demo.sandbox, refresh_token=token
                )
    except SalesforceAuthError as exc:
        log.warning(
            "demo tenant not connected: open its connect page to connect it",
            tenant_id=tenant,
            error=exc.code,
        )
        return False
    # With refresh-token rotation the seed's token is spent now: keep the one it became.
    kept = response.refresh_token.get_secret_value() if response.refresh_token else token
    await connect.store_connection(tenant, response, kept, demo.sandbox)
    log.info("demo tenant connected from the emulator seed", tenant_id=tenant)
    return True


async def bootstrap_bulk(
    tenants: Sequence[DemoTenant],
    *,
    store: TokenStore,
    salesforce: SalesforceOAuth,
    connect: ConnectFlow,
    concurrency: int = 16,
) -> int:
    """Connect each tenant that has no connection yet, `concurrency` at a time; how many
    it connected."""
    gate = asyncio.Semaphore(concurrency)

    async def one(tenant: DemoTenant) -> bool:
        async with gate:
            return await bootstrap_demo(tenant, store=store, salesforce=salesforce, connect=connect)

    connected = sum(await asyncio.gather(*(one(t) for t in tenants)))
    log.info("seeded tenants connected", connected=connected, tenants=len(tenants))
    return connected
