"""What the connect page and `GET /admin/status` show about a tenant."""

from __future__ import annotations

import asyncio

from auth_service.adapters.ports import TokenStore
from auth_service.domain.connection import ConnectionStatus, status_of
from auth_service.handlers.permissions import PermissionChecks

# A page must render even when Salesforce is slow: the check gets this long.
PAGE_CHECK_TIMEOUT_S = 5.0


class StatusQuery:
    def __init__(self, *, store: TokenStore, permissions: PermissionChecks) -> None:
        self._store = store
        self._permissions = permissions

    async def status(self, tenant_id: str, *, check_if_unknown: bool = True) -> ConnectionStatus:
        """The tenant's status; runs the permission check when connected and this replica
        has no result for the current connection yet."""
        record = self._store.get(tenant_id)
        check = self._permissions.last(tenant_id)
        error = None
        connected = record is not None and record.revoked_at is None
        if connected and check is None and check_if_unknown:
            try:
                async with asyncio.timeout(PAGE_CHECK_TIMEOUT_S):
                    check = await self._permissions.check(tenant_id, timeout=PAGE_CHECK_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - shown on the page, never raised
                error = _why(exc)
            record = self._store.get(tenant_id)  # a refresh may have revoked it
        return status_of(tenant_id, record, check, error)


def _why(exc: Exception) -> str:
    message = getattr(exc, "message", "")
    if isinstance(exc, TimeoutError):
        return "Salesforce did not answer in time"
    return str(message) or type(exc).__name__
