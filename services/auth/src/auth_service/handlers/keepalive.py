"""Keep-alive: a tenant nobody asked a token for in `idle_after` gets a refresh anyway, so
its refresh token is used before Salesforce expires it idle (30 days for apps with
refresh-token rotation), and a record sealed with an older key is re-sealed.

Each replica sweeps only the tenants it owns, so one refresh runs per tenant, through the
same single flight, catch-up and storing of the rotated token as any refresh.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from auth_service.adapters.ports import Ownership, TokenStore
from auth_service.domain.errors import NotOwned, TokenUnavailable
from auth_service.domain.keyring import KeyRing
from auth_service.domain.tokens import keepalive_due
from auth_service.handlers.tokens import TokenService
from chat_runtime.clock import Clock
from chat_runtime.logging import get_logger

log = get_logger(__name__)

_AT_ONCE = 4
_REFRESH_TIMEOUT_S = 60.0
_FIRST_SWEEP_S = 30.0


class KeepAlive:
    def __init__(
        self,
        *,
        store: TokenStore,
        tokens: TokenService,
        ownership: Ownership,
        ring: KeyRing,
        clock: Clock,
        idle_after: timedelta,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._ownership = ownership
        self._ring = ring
        self._clock = clock
        self._idle_after = idle_after

    def due(self) -> list[str]:
        """The owned tenants whose refresh token must be used now."""
        now = self._clock.now()
        return [
            record.tenant_id
            for record in self._store.records()
            if self._ownership.owns(record.tenant_id)
            and keepalive_due(
                record,
                now=now,
                idle_after=self._idle_after,
                key_current=self._ring.is_current(record.key_id),
            )
        ]

    async def sweep(self) -> int:
        """Refresh every tenant due; how many were refreshed."""
        slots = asyncio.Semaphore(_AT_ONCE)

        async def one(tenant_id: str) -> bool:
            async with slots:
                try:
                    await self._tokens.keep_alive(tenant_id, _REFRESH_TIMEOUT_S)
                except NotOwned:
                    return False
                except TokenUnavailable as exc:
                    log.warning("keep-alive refresh failed", tenant_id=tenant_id, error=exc.code)
                    return False
                log.info("keep-alive refresh", tenant_id=tenant_id)
                return True

        done = await asyncio.gather(*(one(t) for t in self.due()))
        return sum(done)

    async def run(self, interval_s: float) -> None:
        """Sweep soon after start (once the group has settled), then every `interval_s`,
        until cancelled."""
        delay = min(interval_s, _FIRST_SWEEP_S)
        while True:
            await self._clock.sleep(delay)
            delay = interval_s
            try:
                await self.sweep()
            except Exception:  # a sweep that failed is tried again next time
                log.exception("keep-alive sweep failed")
