"""A stand-in for the auth service: answers `TokenRequest`s with emulator sessions.

It speaks `auth.token-requests.v1`'s contract exactly (a FastStream subscriber replying
`TokenGrantedReply` / `TokenErrorReply`), minting sessions through the emulator's admin
API (`POST /__admin/orgs/{id}/sessions`). Like auth, it keeps one token per tenant and
mints a new one only when a request names the current one as rejected.
"""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType
from typing import Self

from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from chat_contracts.auth import (
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenRequest,
    token_fingerprint,
)
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator


class FakeAuth:
    """`async with FakeAuth(bootstrap, topic, emulator) as auth: auth.connect("t1", org)`."""

    def __init__(self, bootstrap: str, topic: str, emulator: SalesforceEmulator) -> None:
        self.emulator = emulator
        self.orgs: dict[str, EmulatorOrg] = {}
        self.revoked: set[str] = set()
        self.tokens: dict[str, str] = {}
        self.requests: list[TokenRequest] = []
        self.delay_s = 0.0
        self.broker = KafkaBroker(bootstrap, logger=None)
        sub = self.broker.subscriber(
            topic, group_id=f"fake-auth-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest"
        )

        @sub
        async def answer(request: TokenRequest) -> bytes:
            self.requests.append(request)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            return self.reply(request).model_dump_json().encode()

    def connect(self, tenant_id: str, org: EmulatorOrg) -> None:
        """Let `tenant_id` use `org`."""
        self.orgs[tenant_id] = org

    def reply(self, request: TokenRequest) -> TokenGrantedReply | TokenErrorReply:
        tenant = request.tenant_id
        org = self.orgs.get(tenant)
        if org is None:
            return TokenErrorReply(
                tenant_id=tenant, code=TokenErrorCode.NOT_CONNECTED, message="never connected"
            )
        if tenant in self.revoked:
            return TokenErrorReply(
                tenant_id=tenant, code=TokenErrorCode.REVOKED, message="refresh token revoked"
            )
        current = self.tokens.get(tenant)
        stale = request.rejected_token_fingerprint is not None and current is not None
        if current is None or (
            stale and request.rejected_token_fingerprint == token_fingerprint(current)
        ):
            current = self.tokens[tenant] = self.emulator.new_session(org.org_id)
        return TokenGrantedReply(
            tenant_id=tenant,
            access_token=SecretStr(current),
            instance_url=org.instance_url,
            org_id=org.org_id,
            user_id=org.user_id,
            issued_at=request.occurred_at,
        )

    async def __aenter__(self) -> Self:
        await self.broker.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.broker.stop()
