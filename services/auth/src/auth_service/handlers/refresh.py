"""One refresh-token grant for a tenant, and what its outcome does to the connection.

5xx, timeouts and unreachable hosts are retried with exponential backoff and jitter and
never revoke; after the last attempt the tenant gets a doubling cool-down and a
`refresh_failed` event. Salesforce's `invalid_grant` marks the tenant revoked in its
record (so every replica, and the page, know) and publishes `revoked`. A success records
when the token last worked, stores a rotated refresh token, and re-seals a record still
sealed with an older key.

With refresh-token rotation every refresh spends the token it used: the rotated one must
be the one the next refresh uses, or Salesforce sees a used token again and revokes the
whole family. It is stored before the access token is served; when Kafka refuses the write,
the record is held here (`current`) and written again in the background until it is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from auth_service.adapters.ports import EventPublisher, SalesforceOAuth, TokenResponse, TokenStore
from auth_service.domain.errors import (
    ConnectionChanged,
    InvalidGrant,
    SalesforceAuthError,
    TokenUnavailable,
    TransientError,
)
from auth_service.domain.keyring import KeyRing, KeyRingError
from auth_service.domain.token_records import changed, open_token
from auth_service.domain.tokens import Cooldown
from auth_service.metrics import AuthMetrics
from chat_contracts.auth import RefreshTokenRecord, TokenErrorCode
from chat_contracts.auth_events import RefreshFailedEvent, RevokedEvent
from chat_runtime.clock import Clock
from chat_runtime.logging import get_logger

log = get_logger(__name__)

REVOKED_MESSAGE = "Salesforce refused the refresh token (invalid_grant): reconnect the tenant"


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    attempts: int = 4
    backoff_s: float = 0.25
    backoff_max_s: float = 4.0
    cooldown_s: float = 2.0
    cooldown_max_s: float = 60.0


class Refresher:
    def __init__(
        self,
        *,
        store: TokenStore,
        salesforce: SalesforceOAuth,
        events: EventPublisher,
        ring: KeyRing,
        metrics: AuthMetrics,
        policy: RefreshPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._sf = salesforce
        self._events = events
        self.ring = ring
        self._metrics = metrics
        self._policy = policy
        self._clock = clock
        self._cooldowns: dict[str, Cooldown] = {}
        self._unsaved: dict[str, RefreshTokenRecord] = {}
        """Rotated records Kafka has not stored yet, by tenant."""
        self._savers: dict[str, asyncio.Task[None]] = {}

    def current(self, stored: RefreshTokenRecord) -> RefreshTokenRecord:
        """The record a refresh must use: a rotated one not stored yet, for the same
        connection, else the stored one."""
        held = self._unsaved.get(stored.tenant_id)
        if held is not None and held.connected_at == stored.connected_at:
            return held
        return stored

    def _is_current(self, record: RefreshTokenRecord) -> bool:
        tenant = record.tenant_id
        return self._store.get(tenant) is record or self._unsaved.get(tenant) is record

    def cooldown(self, tenant_id: str) -> Cooldown | None:
        """The tenant's cool-down after failed refreshes, if any."""
        return self._cooldowns.get(tenant_id)

    def forgive(self, tenant_id: str) -> None:
        self._cooldowns.pop(tenant_id, None)

    async def refresh(self, record: RefreshTokenRecord) -> TokenResponse:
        """A new access token for the record's connection, or TokenUnavailable."""
        try:
            refresh_token = open_token(record, self.ring)
        except KeyRingError:
            log.error(
                "stored refresh token cannot be opened",
                tenant_id=record.tenant_id,
                key_id=record.key_id,
            )
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED,
                f"the stored token is sealed with key {record.key_id!r}, not in the key ring",
            ) from None
        attempts = 0
        try:
            async for attempt in self._retrying():
                with attempt:
                    attempts += 1
                    response = await self._sf.refresh(
                        tenant_id=record.tenant_id,
                        sandbox=record.sandbox,
                        refresh_token=refresh_token,
                    )
        except InvalidGrant as exc:
            self._metrics.refreshes.labels("invalid_grant").inc()
            if not self._is_current(record):
                # Reconnected (or disconnected) meanwhile, which revoked the token this
                # refresh used: the refusal is about a connection that is gone.
                log.info("refresh refused for a replaced connection", tenant_id=record.tenant_id)
                raise ConnectionChanged(record.tenant_id) from None
            await self._revoked(record, exc)
            raise TokenUnavailable(TokenErrorCode.REVOKED, REVOKED_MESSAGE) from None
        except SalesforceAuthError as exc:
            await self._failed(record, exc, attempts)
            raise TokenUnavailable(
                TokenErrorCode.REFRESH_FAILED,
                f"token refresh failed after {attempts} attempt(s): {exc.code}",
            ) from None
        self._metrics.refreshes.labels("ok").inc()
        self.forgive(record.tenant_id)
        await self._worked(record, response)
        return response

    def _retrying(self) -> AsyncRetrying:
        policy = self._policy
        return AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_exponential_jitter(
                multiplier=policy.backoff_s, jitter=policy.backoff_s, max=policy.backoff_max_s
            ),
            retry=retry_if_exception_type(TransientError),
            before_sleep=lambda state: self._metrics.refreshes.labels("transient").inc(),
            reraise=True,
        )

    async def _revoked(self, record: RefreshTokenRecord, exc: InvalidGrant) -> None:
        log.warning(
            "Salesforce refused the refresh token: tenant must reconnect",
            tenant_id=record.tenant_id,
            error=exc.code,
        )
        await self._save(changed(record, ring=self.ring, revoked_at=self._clock.now()))
        await self._events.publish(
            RevokedEvent(tenant_id=record.tenant_id, error=exc.code, message=exc.message)
        )

    async def _failed(
        self, record: RefreshTokenRecord, exc: SalesforceAuthError, attempts: int
    ) -> None:
        transient = isinstance(exc, TransientError)
        self._metrics.refreshes.labels("transient" if transient else "rejected").inc()
        cooldown = self._cooldowns.setdefault(
            record.tenant_id, Cooldown(self._policy.cooldown_s, self._policy.cooldown_max_s)
        )
        cooldown.failed(self._clock.monotonic())
        log.warning(
            "token refresh failed",
            tenant_id=record.tenant_id,
            error=exc.code,
            attempts=attempts,
            will_retry=transient,
        )
        await self._events.publish(
            RefreshFailedEvent(
                tenant_id=record.tenant_id,
                error=exc.code,
                message=exc.message,
                attempts=attempts,
                will_retry=transient,
            )
        )

    async def _worked(self, record: RefreshTokenRecord, response: TokenResponse) -> None:
        if not self._is_current(record):
            return  # reconnected or disconnected meanwhile: that write wins
        rotated = response.refresh_token.get_secret_value() if response.refresh_token else None
        if rotated is None and not self.ring.is_current(record.key_id):
            rotated = open_token(record, self.ring)
        now = self._clock.now()
        updated = changed(record, ring=self.ring, refresh_token=rotated, last_refreshed_at=now)
        if response.refresh_token is None:
            await self._save(updated)
            return
        try:
            await self._store.put(updated)
        except KafkaError as exc:
            # Rotated: Salesforce already spent the old token. Hold the new one and keep
            # writing it; refreshes meanwhile use it (`current`).
            log.error(
                "rotated refresh token not stored yet; holding it and retrying",
                tenant_id=record.tenant_id,
                error=type(exc).__name__,
            )
            self._unsaved[record.tenant_id] = updated
            tenant = record.tenant_id
            task = asyncio.create_task(self._keep_saving(updated))
            self._savers[tenant] = task
            task.add_done_callback(lambda t: self._saved(tenant, t))
            return
        if self._unsaved.get(record.tenant_id) is record:
            del self._unsaved[record.tenant_id]

    def _saved(self, tenant_id: str, task: asyncio.Task[None]) -> None:
        if self._savers.get(tenant_id) is task:
            del self._savers[tenant_id]

    async def settle(self, tenants: Callable[[str], bool]) -> None:
        """Wait until the rotated records of `tenants` that Kafka refused are stored."""
        saving = [task for tenant, task in self._savers.items() if tenants(tenant)]
        if saving:
            await asyncio.wait(saving)

    async def _keep_saving(self, record: RefreshTokenRecord) -> None:
        delay = self._policy.backoff_s
        while self._unsaved.get(record.tenant_id) is record:
            try:
                await self._store.put(record)
            except KafkaError:
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._policy.backoff_max_s * 4)
                continue
            if self._unsaved.get(record.tenant_id) is record:
                del self._unsaved[record.tenant_id]
            log.info("rotated refresh token stored", tenant_id=record.tenant_id)

    async def _save(self, record: RefreshTokenRecord) -> None:
        try:
            await self._store.put(record)
        except KafkaError as exc:
            log.error("refresh-token record not written", error=type(exc).__name__)
