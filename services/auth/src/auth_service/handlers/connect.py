"""Connecting a tenant (OAuth web server flow with PKCE) and disconnecting it.

`start` gives the authorize URL and the state to remember in the browser; `complete`
checks the state Salesforce sends back, exchanges the code, stores the refresh token
sealed, announces the connection and runs the permission check. `store_connection` is
also the demo bootstrap's way in (which leaves no audit trail: nobody asked for it).

A completed attempt (connected, denied at Salesforce, or failed) and a disconnect are
each an `AuditEvent`, its actor whoever started the attempt (kept in the sealed state).
A callback whose state cannot be opened names no tenant for certain: it is only logged.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from auth_service.adapters.ports import (
    AuditTrail,
    EventPublisher,
    SalesforceOAuth,
    TokenResponse,
    TokenStore,
)
from auth_service.domain import audit
from auth_service.domain.audit import Caller, Outcome
from auth_service.domain.errors import SalesforceAuthError
from auth_service.domain.keyring import KeyRing, KeyRingError
from auth_service.domain.state import (
    OAuthState,
    StateError,
    UsedStates,
    new_state,
    open_state,
    pkce_challenge,
    seal_state,
)
from auth_service.domain.token_records import new_record, open_token
from auth_service.handlers.permissions import PermissionChecks
from auth_service.handlers.tokens import TokenService
from auth_service.metrics import AuthMetrics
from chat_contracts.auth import RefreshTokenRecord
from chat_contracts.auth_events import ConnectedEvent, DisconnectedEvent
from chat_runtime.clock import Clock
from chat_runtime.logging import get_logger

log = get_logger(__name__)


class ConnectFailed(Exception):
    """Salesforce did not complete the connection; the message is fit for the page."""


@dataclass(frozen=True, slots=True)
class Started:
    authorize_url: str
    state: OAuthState


@dataclass(frozen=True, slots=True)
class Completed:
    tenant_id: str
    outcome: str  # "connected" | "denied"


class ConnectFlow:
    def __init__(
        self,
        *,
        ring: KeyRing,
        salesforce: SalesforceOAuth,
        store: TokenStore,
        events: EventPublisher,
        audit: AuditTrail,
        tokens: TokenService,
        permissions: PermissionChecks,
        metrics: AuthMetrics,
        clock: Clock,
        state_ttl_s: float,
    ) -> None:
        self._ring = ring
        self._sf = salesforce
        self._store = store
        self._events = events
        self._audit = audit
        self._tokens = tokens
        self._permissions = permissions
        self._metrics = metrics
        self._clock = clock
        self._state_ttl_s = state_ttl_s
        self._used = UsedStates()

    def start(self, tenant_id: str, *, sandbox: bool, caller: Caller | None = None) -> Started:
        state = new_state(
            tenant_id,
            sandbox=sandbox,
            now=self._clock.epoch(),
            ttl_s=self._state_ttl_s,
            actor=caller.actor if caller is not None else "unknown",
        )
        url = self._sf.authorize_url(
            sandbox=sandbox,
            state=seal_state(state, self._ring),
            code_challenge=pkce_challenge(state.code_verifier),
        )
        return Started(url, state)

    async def complete(
        self,
        *,
        state_param: str,
        code: str,
        error: str,
        browser_nonce: str,
        source_ip: str | None = None,
    ) -> Completed:
        """Raises StateError (bad, expired, replayed or foreign state) or ConnectFailed."""
        state = open_state(state_param, self._ring, now=self._clock.epoch())
        if not hmac.compare_digest(browser_nonce.encode(), state.nonce.encode()):
            raise StateError("not_this_browser")
        self._used.claim(state, now=self._clock.epoch())
        caller = Caller(state.actor, source_ip)
        try:
            done = await self._complete(state, code, error)
        except ConnectFailed:
            await self._record(state, caller, "failed")
            raise
        await self._record(state, caller, "ok" if done.outcome == "connected" else "refused")
        return done

    async def _record(self, state: OAuthState, caller: Caller, outcome: Outcome) -> None:
        target = "sandbox" if state.sandbox else "production"
        await self._audit.record(
            audit.event(
                state.tenant_id, caller, "connection.connect", outcome=outcome, target=target
            )
        )

    async def _complete(self, state: OAuthState, code: str, error: str) -> Completed:
        if error:
            self._metrics.connects.labels("denied").inc()
            return Completed(state.tenant_id, "denied")
        if not code:
            raise StateError("malformed")
        try:
            response = await self._sf.exchange_code(
                tenant_id=state.tenant_id,
                sandbox=state.sandbox,
                code=code,
                code_verifier=state.code_verifier,
            )
        except SalesforceAuthError as exc:
            self._metrics.connects.labels("failed").inc()
            raise ConnectFailed(f"Salesforce did not accept the sign-in ({exc.code})") from None
        if response.refresh_token is None:
            self._metrics.connects.labels("failed").inc()
            raise ConnectFailed("Salesforce gave no refresh token: allow the refresh_token scope")
        await self.store_connection(
            state.tenant_id, response, response.refresh_token.get_secret_value(), state.sandbox
        )
        self._metrics.connects.labels("connected").inc()
        return Completed(state.tenant_id, "connected")

    async def store_connection(
        self, tenant_id: str, response: TokenResponse, refresh_token: str, sandbox: bool
    ) -> RefreshTokenRecord:
        """Seal and store the token, cache the access token, announce, check permissions."""
        try:
            username = await self._sf.username(tenant_id=tenant_id, token=response)
        except SalesforceAuthError:
            username = response.user_id  # the identity service is optional to connecting
        previous = self._store.get(tenant_id)
        record = new_record(
            tenant_id=tenant_id,
            refresh_token=refresh_token,
            ring=self._ring,
            org_id=response.org_id,
            user_id=response.user_id,
            username=username,
            instance_url=response.instance_url,
            sandbox=sandbox,
            now=self._clock.now(),
        )
        await self._store.put(record)
        self._tokens.prime(record, response)
        log.info("tenant connected", tenant_id=tenant_id, org_id=record.org_id, sandbox=sandbox)
        await self._events.publish(
            ConnectedEvent(
                tenant_id=tenant_id,
                org_id=record.org_id,
                user_id=record.user_id,
                username=record.username,
                instance_url=record.instance_url,
                sandbox=sandbox,
            )
        )
        if previous is not None:
            await self._revoke_quietly(previous, keep=refresh_token)
        try:
            await self._permissions.check(tenant_id)
        except Exception as exc:  # noqa: BLE001 - the page offers to check again
            log.warning("permission check after connecting failed", error=type(exc).__name__)
        return record

    async def disconnect(
        self, tenant_id: str, *, initiated_by: str, caller: Caller | None = None
    ) -> DisconnectedEvent | None:
        """Revoke at Salesforce (best effort), write the tombstone, announce, and record
        who asked (`caller`). None when the tenant had no connection."""
        record = self._store.get(tenant_id)
        event = None if record is None else await self._disconnect(record, initiated_by)
        if caller is not None:
            target = record.org_id if record is not None else None
            await self._audit.record(
                audit.event(tenant_id, caller, "connection.disconnect", target=target)
            )
        return event

    async def _disconnect(self, record: RefreshTokenRecord, initiated_by: str) -> DisconnectedEvent:
        tenant_id = record.tenant_id
        revoked = await self._revoke_quietly(record)
        await self._store.delete(tenant_id)
        self._permissions.forget(tenant_id)
        event = DisconnectedEvent(
            tenant_id=tenant_id, initiated_by=initiated_by, revoked_at_salesforce=revoked
        )
        log.info("tenant disconnected", tenant_id=tenant_id, revoked_at_salesforce=revoked)
        await self._events.publish(event)
        return event

    async def _revoke_quietly(self, record: RefreshTokenRecord, keep: str | None = None) -> bool:
        """Revoke a record's refresh token at Salesforce; a failure is logged, not raised."""
        try:
            token = open_token(record, self._ring)
            if token == keep:
                return False
            return await self._sf.revoke(
                tenant_id=record.tenant_id, sandbox=record.sandbox, token=token
            )
        except (KeyRingError, SalesforceAuthError) as exc:
            code = exc.code if isinstance(exc, SalesforceAuthError) else "key_ring"
            log.warning("revoking at Salesforce failed", tenant_id=record.tenant_id, error=code)
            return False


__all__ = ["Completed", "ConnectFailed", "ConnectFlow", "Started", "StateError"]
