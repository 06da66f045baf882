"""The permission check: can the connected user query, create and update Account,
Contact, Lead, Case and Task? Run after connecting and on demand; each result is kept
for the page and published on `auth.connections.v1`."""

from __future__ import annotations

from datetime import datetime

from auth_service.adapters.ports import EventPublisher, SalesforceOAuth, TokenStore
from auth_service.domain.errors import Rejected
from auth_service.domain.permissions import describe_missing, missing_permissions
from auth_service.handlers.tokens import TokenService
from chat_contracts.auth_events import PermissionCheckEvent
from chat_runtime.logging import get_logger

log = get_logger(__name__)


class PermissionChecks:
    def __init__(
        self,
        *,
        tokens: TokenService,
        salesforce: SalesforceOAuth,
        store: TokenStore,
        events: EventPublisher,
    ) -> None:
        self._tokens = tokens
        self._sf = salesforce
        self._store = store
        self._events = events
        # tenant -> (result, connected_at of the connection it was checked for)
        self._results: dict[str, tuple[PermissionCheckEvent, datetime]] = {}

    def last(self, tenant_id: str) -> PermissionCheckEvent | None:
        """The latest result for the tenant's current connection, if this replica has one."""
        result = self._results.get(tenant_id)
        record = self._store.get(tenant_id)
        if result is None or record is None or result[1] != record.connected_at:
            return None
        return result[0]

    async def check(self, tenant_id: str, *, timeout: float = 10.0) -> PermissionCheckEvent:  # noqa: ASYNC109
        """Describe the org as the connected user; raises TokenUnavailable or a
        `domain.errors.SalesforceAuthError` when it cannot."""
        record = self._store.get(tenant_id)
        grant = await self._tokens.access(tenant_id, timeout=timeout)
        try:
            describe = await self._sf.describe_global(
                tenant_id=tenant_id,
                instance_url=grant.instance_url,
                access_token=grant.access_token.get_secret_value(),
            )
        except Rejected as exc:
            if exc.code != "INVALID_SESSION_ID":
                raise
            grant = await self._tokens.access(
                tenant_id, rejected_fingerprint=grant.fingerprint, timeout=timeout
            )
            describe = await self._sf.describe_global(
                tenant_id=tenant_id,
                instance_url=grant.instance_url,
                access_token=grant.access_token.get_secret_value(),
            )
        event = PermissionCheckEvent(tenant_id=tenant_id, missing=missing_permissions(describe))
        if record is not None:
            self._results[tenant_id] = (event, record.connected_at)
        log.info(
            "permission check",
            tenant_id=tenant_id,
            ok=event.ok,
            missing=describe_missing(event.missing),
        )
        await self._events.publish(event)
        return event

    def forget(self, tenant_id: str) -> None:
        self._results.pop(tenant_id, None)
