"""In-memory stand-ins for auth's ports, and a clock moved by hand."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from auth_service.adapters.ports import RecordListener, TokenResponse
from auth_service.domain.errors import SalesforceAuthError
from auth_service.domain.keyring import KeyRing
from chat_contracts.audit import AuditEvent
from chat_contracts.auth import RefreshTokenRecord
from chat_contracts.auth_events import ConnectionEvent
from chat_contracts.settings import TenantSettings
from chat_runtime.clock import Clock

ORG_ID = "00D5g000004XyZaEAK"
USER_ID = "0055g00000AbCdEAAV"
INSTANCE = "https://acme.my.salesforce.com"


def ring(*ids: str, active: str | None = None) -> KeyRing:
    ids = ids or ("k1",)
    return KeyRing({i: os.urandom(32) for i in ids}, active or ids[-1])


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class FakeClock(Clock):
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def epoch(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def token_response(n: int, *, refresh: str | None = None) -> TokenResponse:
    return TokenResponse(
        access_token=SecretStr(f"00D5g000004XyZa!access-{n}"),
        refresh_token=SecretStr(refresh) if refresh else None,
        instance_url=INSTANCE,
        identity_url=f"https://login.salesforce.com/id/{ORG_ID}/{USER_ID}",
        org_id=ORG_ID,
        user_id=USER_ID,
        issued_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
    )


class FakeSalesforce:
    """Answers refreshes with numbered tokens; `failures` are raised first, in order."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.revoked: list[str] = []
        self.failures: list[SalesforceAuthError] = []
        self.delay = 0.0
        self.describe: Mapping[str, Any] = {
            "sobjects": [
                {"name": n, "queryable": True, "createable": True, "updateable": True}
                for n in ("Account", "Contact", "Lead", "Case", "Task")
            ]
        }
        self.on_refresh: Callable[[str], None] | None = None
        # Object describes (`GET /sobjects/{Obj}/describe`); absent: the org has none.
        self.sobjects: dict[str, Mapping[str, Any]] = {}
        self.exchange_error: SalesforceAuthError | None = None

    def authorize_url(self, *, sandbox: bool, state: str, code_challenge: str) -> str:
        host = "test" if sandbox else "login"
        return f"https://{host}.salesforce.com/authorize?state={state}&cc={code_challenge}"

    async def exchange_code(
        self, *, tenant_id: str, sandbox: bool, code: str, code_verifier: str
    ) -> TokenResponse:
        if self.exchange_error is not None:
            raise self.exchange_error
        return token_response(0, refresh=f"refresh-for-{code}")

    async def refresh(self, *, tenant_id: str, sandbox: bool, refresh_token: str) -> TokenResponse:
        self.refreshes += 1
        if self.on_refresh is not None:
            self.on_refresh(refresh_token)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return token_response(self.refreshes)

    async def revoke(self, *, tenant_id: str, sandbox: bool, token: str) -> bool:
        self.revoked.append(token)
        return True

    async def username(self, *, tenant_id: str, token: TokenResponse) -> str:
        return "admin@acme.test"

    async def describe_global(
        self, *, tenant_id: str, instance_url: str, access_token: str
    ) -> Mapping[str, Any]:
        return self.describe

    async def describe_sobject(
        self, *, tenant_id: str, instance_url: str, access_token: str, sobject: str
    ) -> Mapping[str, Any] | None:
        return self.sobjects.get(sobject)


class MemoryStore:
    def __init__(self) -> None:
        self.data: dict[str, RefreshTokenRecord] = {}
        self.writes: list[RefreshTokenRecord | str] = []  # records, or tenant of a tombstone
        self._listeners: list[RecordListener] = []

    def get(self, tenant_id: str) -> RefreshTokenRecord | None:
        return self.data.get(tenant_id)

    def records(self) -> Iterable[RefreshTokenRecord]:
        return list(self.data.values())

    async def put(self, record: RefreshTokenRecord) -> None:
        self.data[record.tenant_id] = record
        self.writes.append(record)
        for listener in self._listeners:
            listener(record.tenant_id, record)

    async def delete(self, tenant_id: str) -> None:
        self.data.pop(tenant_id, None)
        self.writes.append(tenant_id)
        for listener in self._listeners:
            listener(tenant_id, None)

    def listen(self, listener: RecordListener) -> None:
        self._listeners.append(listener)

    async def caught_up(self, timeout: float) -> None:  # noqa: ASYNC109
        return None  # one process, every write held at once


class MemoryEvents:
    def __init__(self) -> None:
        self.events: list[ConnectionEvent] = []

    async def publish(self, event: ConnectionEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


class MemoryAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record(self, event: AuditEvent) -> None:
        self.events.append(event)


class MemorySettings:
    def __init__(self) -> None:
        self.data: dict[str, TenantSettings] = {}
        self.writes: list[TenantSettings] = []

    def get(self, tenant_id: str) -> TenantSettings | None:
        return self.data.get(tenant_id)

    async def put(self, settings: TenantSettings) -> None:
        self.writes.append(settings)
        self.data[settings.tenant_id] = settings
