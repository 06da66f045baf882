"""The Salesforce port of the handlers, and its implementation over `chat_salesforce`.

The adapter is where Salesforce's failures become the contract's error codes, so the
handlers and the domain only ever see `ActionError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from bot_actions.domain.errors import ActionError
from chat_contracts.base import JsonScalar
from chat_contracts.bot_replies import BotErrorCode
from chat_salesforce import (
    InvalidField,
    InvalidSession,
    InvalidType,
    MalformedQuery,
    NotConnected,
    ObjectSchema,
    ObjectSummary,
    RequestLimitExceeded,
    RequiredFieldMissing,
    SalesforceAccessError,
    SalesforceApiError,
    SalesforceGateway,
    SchemaCache,
    TokenUnavailable,
)


class SalesforcePort(Protocol):
    """What the handlers need of Salesforce, per tenant. Raises `ActionError` only."""

    async def objects(self, tenant_id: str) -> tuple[ObjectSummary, ...]: ...

    async def schema(
        self, tenant_id: str, name: str, *, expect_paths: Iterable[str] = ()
    ) -> ObjectSchema: ...

    async def query(self, tenant_id: str, soql: str) -> Mapping[str, Any]: ...

    async def create(
        self, tenant_id: str, sobject: str, fields: Mapping[str, JsonScalar]
    ) -> str: ...

    async def update(
        self, tenant_id: str, sobject: str, record_id: str, fields: Mapping[str, JsonScalar]
    ) -> None: ...

    @property
    def api_version(self) -> str: ...

    async def composite(self, tenant_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]: ...

    async def instance_url(self, tenant_id: str) -> str: ...


class GatewaySalesforce:
    """`SalesforcePort` over the shared gateway and a per-tenant describe cache."""

    def __init__(self, gateway: SalesforceGateway, schemas: SchemaCache) -> None:
        self._gateway = gateway
        self._schemas = schemas

    async def objects(self, tenant_id: str) -> tuple[ObjectSummary, ...]:
        try:
            return await self._schemas.objects(tenant_id)
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None

    async def schema(
        self, tenant_id: str, name: str, *, expect_paths: Iterable[str] = ()
    ) -> ObjectSchema:
        try:
            return await self._schemas.describe(tenant_id, name, expect_paths=expect_paths)
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None

    async def query(self, tenant_id: str, soql: str) -> Mapping[str, Any]:
        try:
            return await self._gateway.query(tenant_id, soql)
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None

    async def create(self, tenant_id: str, sobject: str, fields: Mapping[str, JsonScalar]) -> str:
        try:
            return await self._gateway.create(tenant_id, sobject, fields)
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None

    async def update(
        self, tenant_id: str, sobject: str, record_id: str, fields: Mapping[str, JsonScalar]
    ) -> None:
        try:
            await self._gateway.update(tenant_id, sobject, record_id, fields)
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None

    @property
    def api_version(self) -> str:
        return self._gateway.options.api_version

    async def composite(self, tenant_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """`POST /composite` (reads only, so transient failures are retried)."""
        try:
            answer = await self._gateway.restful(
                tenant_id,
                "composite",
                method="POST",
                json=dict(body),
                operation="composite",
                retry=True,
            )
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None
        return dict(answer or {})

    async def instance_url(self, tenant_id: str) -> str:
        try:
            return await self._gateway.instance_url(tenant_id)
        except SalesforceAccessError as exc:
            raise as_action_error(exc) from None


_CODES: tuple[tuple[type[SalesforceAccessError], BotErrorCode], ...] = (
    (NotConnected, BotErrorCode.NOT_CONNECTED),
    # Refused again right after auth handed over a new token: the connection is broken.
    (InvalidSession, BotErrorCode.NOT_CONNECTED),
    (TokenUnavailable, BotErrorCode.INTERNAL),
    (InvalidType, BotErrorCode.UNKNOWN_OBJECT),
    (InvalidField, BotErrorCode.UNKNOWN_FIELD),
    (MalformedQuery, BotErrorCode.VALIDATION),
    (RequiredFieldMissing, BotErrorCode.REQUIRED_FIELDS_MISSING),
    (RequestLimitExceeded, BotErrorCode.SALESFORCE_ERROR),
)


def as_action_error(exc: SalesforceAccessError) -> ActionError:
    """The contract's error for a failure of the Salesforce access library."""
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), BotErrorCode.SALESFORCE_ERROR)
    if isinstance(exc, SalesforceApiError):
        return ActionError(code, f"Salesforce: {exc.error_code}: {exc.message}", exc.fields)
    if isinstance(exc, NotConnected):
        return ActionError(
            code, f"tenant {exc.tenant_id} is not connected ({exc.code}): {exc.message}"
        )
    return ActionError(code, str(exc))
