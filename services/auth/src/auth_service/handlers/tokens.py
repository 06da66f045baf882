"""Access tokens for callers: served from a per-tenant cache, refreshed one at a time.

`TokenService.issue` answers a `TokenRequest`; `access` is what the pages and the
permission check use. However many callers of a tenant wait, one refresh runs (single
flight); a waiter whose deadline passes gives up without cancelling it. What a refresh's
outcome does to the connection is `handlers.refresh`.

Only the replica that owns a tenant refreshes it (`adapters.ownership`), and only once
its copy of the refresh-token topic has caught up with the topic's end: a token another
replica rotated is then the one used. Any other replica serves a fresh cached token or
asks the owner, like any caller. When tenants stop being owned here, their refreshes
still running (and rotated tokens not stored yet) are finished before they are handed
over.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from auth_service.adapters.ports import Ownership, TokenOwner, TokenResponse, TokenStore
from auth_service.domain.errors import ConnectionChanged, NotOwned, TokenUnavailable
from auth_service.domain.tokens import AccessGrant, CachePolicy, Decision
from auth_service.handlers.refresh import Refresher
from auth_service.metrics import AuthMetrics
from chat_contracts.auth import (
    RefreshTokenRecord,
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenRequest,
)
from chat_runtime.clock import Clock
from chat_runtime.logging import get_logger
from chat_runtime.single_flight import SingleFlight

log = get_logger(__name__)

# How many connection changes one refresh follows before it gives up.
_CONNECTION_CHANGES = 3


class TokenService:
    def __init__(
        self,
        *,
        store: TokenStore,
        refresher: Refresher,
        metrics: AuthMetrics,
        cache_policy: CachePolicy,
        clock: Clock,
        ownership: Ownership,
        owner: TokenOwner | None = None,
        catch_up_timeout_s: float = 10.0,
    ) -> None:
        self._store = store
        self._ownership = ownership
        self._owner = owner
        self._catch_up_timeout_s = catch_up_timeout_s
        self._refresher = refresher
        self._metrics = metrics
        self._policy = cache_policy
        self._clock = clock
        self._cache: dict[str, tuple[AccessGrant, datetime]] = {}  # grant, its connection
        self.flights: SingleFlight[str, AccessGrant] = SingleFlight()
        store.listen(self._on_record)
        ownership.on_release(self._hand_over)

    async def issue(
        self, request: TokenRequest, *, deadline: float
    ) -> TokenGrantedReply | TokenErrorReply:
        """The reply to a token request that must be answered by `deadline` (epoch s)."""
        tenant = request.tenant_id
        try:
            grant = await self.access(
                tenant,
                force=request.force_refresh,
                rejected_fingerprint=request.rejected_token_fingerprint,
                timeout=deadline - self._clock.epoch(),
            )
        except TokenUnavailable as exc:
            self._metrics.token_requests.labels(exc.code.value).inc()
            return TokenErrorReply(tenant_id=tenant, code=exc.code, message=exc.message)
        self._metrics.token_requests.labels("ok").inc()
        return TokenGrantedReply(
            tenant_id=tenant,
            access_token=grant.access_token,
            instance_url=grant.instance_url,
            org_id=grant.org_id,
            user_id=grant.user_id,
            issued_at=grant.issued_at,
        )

    async def access(
        self,
        tenant_id: str,
        *,
        force: bool = False,
        rejected_fingerprint: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the request, shared by waiters
    ) -> AccessGrant:
        """The tenant's access token: cached, or refreshed once for all who wait."""
        record = self._connected(tenant_id)
        now = self._clock.monotonic()
        cached = self._cached(tenant_id, record)
        decision = self._policy.decide(
            cached, now=now, force=force, rejected_fingerprint=rejected_fingerprint
        )
        if decision is Decision.SERVE and cached is not None:
            return cached
        if not self._ownership.owns(tenant_id):
            return await self._from_owner(tenant_id, force, rejected_fingerprint, timeout)
        cooldown = self._refresher.cooldown(tenant_id)
        if cooldown is not None and cooldown.blocks(now) and not self.flights.running(tenant_id):
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED,
                f"Salesforce refresh failing; next attempt in {cooldown.remaining(now):.1f}s",
            )
        started = self._clock.monotonic()
        try:
            return await self.flights.wait(tenant_id, lambda: self._refresh(tenant_id), timeout)
        except TimeoutError:
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED, "token refresh still running at the deadline"
            ) from None
        except NotOwned:  # handed over meanwhile: the new owner answers
            left = timeout - (self._clock.monotonic() - started)
            return await self._from_owner(tenant_id, force, rejected_fingerprint, left)

    async def keep_alive(self, tenant_id: str, timeout: float) -> None:  # noqa: ASYNC109
        """Refresh an owned tenant now, whatever its cache holds (so its refresh token is
        used before Salesforce expires it idle); NotOwned, TokenUnavailable."""
        if not self._ownership.owns(tenant_id):
            raise NotOwned(tenant_id)
        try:
            await self.flights.wait(tenant_id, lambda: self._refresh(tenant_id), timeout)
        except TimeoutError:
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED, "token refresh still running at the deadline"
            ) from None

    def prime(self, record: RefreshTokenRecord, response: TokenResponse) -> AccessGrant:
        """Cache the access token a connect just obtained (no refresh needed after it)."""
        grant = self._grant(response)
        self._cache[record.tenant_id] = (grant, record.connected_at)
        self._refresher.forgive(record.tenant_id)
        return grant

    async def _refresh(self, tenant_id: str) -> AccessGrant:
        try:
            # Read-your-writes: a token another replica rotated (and stored) before now is
            # the one this refresh uses, never the one it spent.
            await self._store.caught_up(self._catch_up_timeout_s)
        except TimeoutError:
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED,
                "the refresh-token topic is not read up to its end yet; try again",
            ) from None
        for _ in range(_CONNECTION_CHANGES):
            if not self._ownership.owns(tenant_id):
                raise NotOwned(tenant_id)
            record = self._connected(tenant_id)
            try:
                response = await self._refresher.refresh(record)
            except ConnectionChanged:
                continue  # again, with the connection now in force
            grant = self._grant(response)
            self._cache[tenant_id] = (grant, record.connected_at)
            return grant
        raise TokenUnavailable(
            TokenErrorCode.REFRESH_FAILED, "the connection kept changing during the refresh"
        )

    async def _from_owner(
        self,
        tenant_id: str,
        force: bool,
        rejected_fingerprint: str | None,
        timeout: float,  # noqa: ASYNC109
    ) -> AccessGrant:
        if self._owner is None:
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED, "the tenant is owned by another replica"
            )
        request = TokenRequest(
            tenant_id=tenant_id,
            force_refresh=force,
            rejected_token_fingerprint=rejected_fingerprint,
        )
        reply = await self._owner.ask(request, max(0.0, timeout))
        if isinstance(reply, TokenErrorReply):
            raise TokenUnavailable(reply.code, reply.message)
        grant = self._grant(reply)
        record = self._store.get(tenant_id)
        if record is not None:
            self._cache[tenant_id] = (grant, record.connected_at)
        return grant

    async def _hand_over(self) -> None:
        """Tenants stopped being owned here: finish their refreshes still running, and
        store the rotated tokens Kafka refused so far, before another replica owns them."""
        gone = [t for t, task in self.flights.tasks() if not self._ownership.owns(t)]
        running = [task for t, task in self.flights.tasks() if t in gone]
        if running:
            log.info("finishing refreshes of tenants handed over", tenants=len(running))
            await asyncio.wait(running)
        await self._refresher.settle(lambda tenant: not self._ownership.owns(tenant))

    def _connected(self, tenant_id: str) -> RefreshTokenRecord:
        record = self._store.get(tenant_id)
        if record is None:
            raise TokenUnavailable(
                TokenErrorCode.NOT_CONNECTED, "the tenant is not connected to Salesforce"
            )
        if record.revoked_at is not None:
            raise TokenUnavailable(
                TokenErrorCode.REVOKED,
                "Salesforce revoked the connection (invalid_grant): reconnect the tenant",
            )
        return self._refresher.current(record)

    def _cached(self, tenant_id: str, record: RefreshTokenRecord) -> AccessGrant | None:
        entry = self._cache.get(tenant_id)
        if entry is None or entry[1] != record.connected_at:
            return None  # none, or obtained under a connection that was replaced since
        return entry[0]

    def _on_record(self, tenant_id: str, record: RefreshTokenRecord | None) -> None:
        if record is None or record.revoked_at is not None:
            self._cache.pop(tenant_id, None)
        states = [("revoked" if r.revoked_at else "connected") for r in self._store.records()]
        for state in ("connected", "revoked"):
            self._metrics.tenants.labels(state).set(states.count(state))

    def _grant(self, response: TokenResponse | TokenGrantedReply) -> AccessGrant:
        """An access token as cached here: from Salesforce, or from the owning replica."""
        return AccessGrant(
            access_token=response.access_token,
            instance_url=response.instance_url,
            org_id=response.org_id,
            user_id=response.user_id,
            issued_at=response.issued_at,
            obtained_at=self._clock.monotonic(),
        )
