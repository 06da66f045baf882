"""AuthTokenSource against a fake auth: caching, single flight, refusal, refresh."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from chat_contracts.auth import (
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenRequest,
    token_fingerprint,
)
from chat_runtime.request_reply.protocol import Reply, RequestTimeout
from chat_salesforce import AuthTokenSource, NotConnected, TokenUnavailable


class FakeAuth:
    """Answers like auth: one token per tenant, a new one when the current is rejected."""

    def __init__(self) -> None:
        self.requests: list[TokenRequest] = []
        self.keys: list[bytes | None] = []
        self.minted = 0
        self.current: dict[str, str] = {}
        self.answer: Any = None
        self.delay = 0.0

    async def request(
        self,
        topic: str,
        value: Any,
        *,
        key: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        assert isinstance(value, TokenRequest)
        self.requests.append(value)
        self.keys.append(key)
        await asyncio.sleep(self.delay)
        if isinstance(self.answer, Exception):
            raise self.answer
        reply = self.answer or self._grant(value)
        return Reply(value=reply.model_dump_json().encode(), headers={}, correlation_id="c")

    def _grant(self, request: TokenRequest) -> TokenGrantedReply:
        current = self.current.get(request.tenant_id)
        if current is None or request.rejected_token_fingerprint == token_fingerprint(current):
            self.minted += 1
            current = self.current[request.tenant_id] = f"token-{self.minted}"
        return TokenGrantedReply(
            tenant_id=request.tenant_id,
            access_token=SecretStr(current),
            instance_url="https://acme.my.salesforce.com/",
            org_id="00D000000000001AAA",
            user_id="005000000000001AAA",
            issued_at=datetime.now(UTC),
        )


async def test_concurrent_gets_share_one_request_and_the_cache() -> None:
    auth = FakeAuth()
    auth.delay = 0.05
    source = AuthTokenSource(auth)
    tokens = await asyncio.gather(*(source.get("t1") for _ in range(20)))
    assert {t.value for t in tokens} == {"token-1"}
    assert len(auth.requests) == 1
    assert auth.keys == [b"t1"]
    assert tokens[0].instance_url == "https://acme.my.salesforce.com"
    assert "token-1" not in repr(tokens[0])
    await source.get("t1")
    assert len(auth.requests) == 1


async def test_refresh_names_the_rejected_token_once() -> None:
    auth = FakeAuth()
    source = AuthTokenSource(auth)
    first = await source.get("t1")
    fresh = await asyncio.gather(*(source.refresh("t1", first) for _ in range(10)))
    assert {t.value for t in fresh} == {"token-2"}
    assert len(auth.requests) == 2
    assert auth.requests[1].rejected_token_fingerprint == first.fingerprint
    # A late refusal of the old token is answered from the cache.
    assert (await source.refresh("t1", first)).value == "token-2"
    assert len(auth.requests) == 2


async def test_expiry_and_max_age() -> None:
    now = [1000.0]
    auth = FakeAuth()
    source = AuthTokenSource(auth, max_age_s=60, clock=lambda: now[0])
    await source.get("t1")
    now[0] += 59
    await source.get("t1")
    assert len(auth.requests) == 1
    now[0] += 2
    await source.get("t1")
    assert len(auth.requests) == 2


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (TokenErrorCode.NOT_CONNECTED, NotConnected),
        (TokenErrorCode.REVOKED, NotConnected),
        (TokenErrorCode.REFRESH_FAILED, NotConnected),
        (TokenErrorCode.INTERNAL, TokenUnavailable),
    ],
)
async def test_auth_refusals(code: TokenErrorCode, error: type[Exception]) -> None:
    auth = FakeAuth()
    auth.answer = TokenErrorReply(tenant_id="t1", code=code, message="no")
    with pytest.raises(error):
        await AuthTokenSource(auth).get("t1")


async def test_no_answer_is_token_unavailable_and_not_cached() -> None:
    auth = FakeAuth()
    auth.answer = RequestTimeout("no reply")
    source = AuthTokenSource(auth)
    with pytest.raises(TokenUnavailable):
        await source.get("t1")
    auth.answer = None
    assert (await source.get("t1")).value == "token-1"
