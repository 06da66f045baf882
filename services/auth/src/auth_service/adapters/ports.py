"""The outside world as auth's use cases see it: small Protocols, real adapters beside
them, in-memory fakes in the unit tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import SecretStr

from chat_contracts.audit import AuditEvent
from chat_contracts.auth import RefreshTokenRecord, TokenReply, TokenRequest
from chat_contracts.auth_events import ConnectionEvent
from chat_contracts.settings import TenantSettings


@dataclass(frozen=True)
class TokenResponse:
    """A successful answer of Salesforce's token endpoint (code or refresh grant)."""

    access_token: SecretStr
    refresh_token: SecretStr | None  # only on the code grant, or with rotation on
    instance_url: str
    identity_url: str
    org_id: str
    user_id: str
    issued_at: datetime


class SalesforceOAuth(Protocol):
    """Salesforce's OAuth endpoints and the few REST calls auth makes.

    Raises `domain.errors.InvalidGrant`, `TransientError` (5xx, timeouts: retry) or
    `Rejected` (anything else).
    """

    def authorize_url(self, *, sandbox: bool, state: str, code_challenge: str) -> str: ...

    async def exchange_code(
        self, *, tenant_id: str, sandbox: bool, code: str, code_verifier: str
    ) -> TokenResponse: ...

    async def refresh(
        self, *, tenant_id: str, sandbox: bool, refresh_token: str
    ) -> TokenResponse: ...

    async def revoke(self, *, tenant_id: str, sandbox: bool, token: str) -> bool: ...

    async def username(self, *, tenant_id: str, token: TokenResponse) -> str: ...

    async def describe_global(
        self, *, tenant_id: str, instance_url: str, access_token: str
    ) -> Mapping[str, Any]: ...

    async def describe_sobject(
        self, *, tenant_id: str, instance_url: str, access_token: str, sobject: str
    ) -> Mapping[str, Any] | None:
        """One object's describe; None when the org has no such object."""
        ...


RecordListener = Callable[[str, RefreshTokenRecord | None], None]


class TokenStore(Protocol):
    """Each tenant's sealed refresh token, as the compacted topic holds it."""

    def get(self, tenant_id: str) -> RefreshTokenRecord | None: ...

    def records(self) -> Iterable[RefreshTokenRecord]: ...

    async def put(self, record: RefreshTokenRecord) -> None: ...

    async def delete(self, tenant_id: str) -> None: ...

    def listen(self, listener: RecordListener) -> None:
        """Call `listener(tenant, record or None)` whenever a tenant's record changes,
        whoever wrote it (this replica or another)."""
        ...

    async def caught_up(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return once every record the topic holds now is applied: a record another
        replica stored before the call is then `get()`'s (TimeoutError after `timeout`)."""
        ...


class Ownership(Protocol):
    """Which tenants this replica may refresh: exactly one replica owns each tenant."""

    def owns(self, tenant_id: str) -> bool: ...

    def on_release(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Await `hook()` when tenants stop being owned here, before another replica may
        own them: it finishes the refreshes still running for them."""
        ...


class TokenOwner(Protocol):
    """The replica that owns a tenant, asked for its token like any other caller."""

    async def ask(self, request: TokenRequest, timeout: float) -> TokenReply: ...  # noqa: ASYNC109


class SettingsStore(Protocol):
    """Each tenant's settings, as the compacted `tenant.settings.v1` holds them."""

    def get(self, tenant_id: str) -> TenantSettings | None: ...

    async def put(self, settings: TenantSettings) -> None:
        """Write (acks=all) and hold the value once the broker has it."""
        ...


class EventPublisher(Protocol):
    async def publish(self, event: ConnectionEvent) -> None: ...


class AuditTrail(Protocol):
    """`audit.events.v1`: one event per admin action."""

    async def record(self, event: AuditEvent) -> None:
        """Publish; a failure is logged, never raised (the action has happened)."""
        ...
