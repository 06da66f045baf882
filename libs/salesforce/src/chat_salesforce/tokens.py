"""Access tokens from the auth service, cached per tenant.

`AuthTokenSource` asks auth on `auth.token-requests.v1` over the shared request/reply
client (a `TokenRequest` keyed by tenant), keeps each tenant's token until shortly before
it expires, and lets concurrent callers of one tenant share a single request. When
Salesforce refuses a token (`INVALID_SESSION_ID`), `refresh()` asks again naming the
refused token by `token_fingerprint`, never by value: auth refreshes once if that is still
its cached token and hands over the newer one otherwise, so a burst of refusals costs one
refresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import TypeAdapter, ValidationError

from chat_contracts.auth import (
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenReply,
    TokenRequest,
    token_fingerprint,
)
from chat_contracts.keys import tenant_key
from chat_contracts.topics import AUTH_TOKEN_REQUESTS
from chat_runtime.request_reply.protocol import Requester, RequestError
from chat_runtime.single_flight import SingleFlight
from chat_salesforce.errors import NotConnected, TokenUnavailable

_REPLY: TypeAdapter[TokenGrantedReply | TokenErrorReply] = TypeAdapter(TokenReply)
# Auth's answers that mean "this tenant has no working connection"; the others
# (validation, deadline_exceeded, internal) say auth could not answer properly.
_DISCONNECTED = {
    TokenErrorCode.NOT_CONNECTED,
    TokenErrorCode.REVOKED,
    TokenErrorCode.REFRESH_FAILED,
}


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A tenant's Salesforce session as auth handed it over. `repr` hides the token."""

    tenant_id: str
    value: str = field(repr=False)
    instance_url: str
    org_id: str
    user_id: str
    valid_until: float | None = None
    """Epoch seconds after which the cache no longer serves it (None: until refused)."""

    @property
    def fingerprint(self) -> str:
        """`token_fingerprint` of the token: how a refused token is named to auth."""
        return token_fingerprint(self.value)


class TokenSource(Protocol):
    """Where the gateway gets tokens (auth in services, a fake in unit tests)."""

    async def get(self, tenant_id: str) -> AccessToken:
        """The tenant's current token; raises `NotConnected` or `TokenUnavailable`."""
        ...

    async def refresh(self, tenant_id: str, rejected: AccessToken) -> AccessToken:
        """A token other than `rejected`, which Salesforce refused."""
        ...


class AuthTokenSource:
    """Tokens from the auth service, cached per tenant, one request in flight per tenant."""

    def __init__(
        self,
        client: Requester,
        *,
        topic: str = AUTH_TOKEN_REQUESTS.name,
        timeout_s: float = 5.0,
        expiry_margin_s: float = 60.0,
        max_age_s: float | None = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._topic = topic
        self._timeout_s = timeout_s
        self._margin_s = expiry_margin_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._cache: dict[str, AccessToken] = {}
        self._flights: SingleFlight[str, AccessToken] = SingleFlight()

    async def get(self, tenant_id: str) -> AccessToken:
        """The cached token while it is valid, else a fresh one from auth."""
        cached = self._cache.get(tenant_id)
        if cached is not None and (
            cached.valid_until is None or cached.valid_until > self._clock()
        ):
            return cached
        return await self._flights.run(tenant_id, lambda: self._ask(tenant_id, None))

    async def refresh(self, tenant_id: str, rejected: AccessToken) -> AccessToken:
        """A token other than `rejected`: the cached one if it is already newer, else auth's
        answer to a request naming `rejected` by fingerprint."""
        cached = self._cache.get(tenant_id)
        if cached is not None and cached.value != rejected.value:
            return cached
        if cached is not None:
            del self._cache[tenant_id]
        return await self._flights.run(tenant_id, lambda: self._ask(tenant_id, rejected))

    def forget(self, tenant_id: str) -> None:
        """Drop the tenant's cached token (e.g. when it disconnected)."""
        self._cache.pop(tenant_id, None)

    async def _ask(self, tenant_id: str, rejected: AccessToken | None) -> AccessToken:
        request = TokenRequest(
            tenant_id=tenant_id,
            rejected_token_fingerprint=rejected.fingerprint if rejected else None,
        )
        try:
            reply = await self._client.request(
                self._topic, request, key=tenant_key(tenant_id), timeout=self._timeout_s
            )
            answer = reply.parse(_REPLY)
        except RequestError as exc:
            raise TokenUnavailable(f"auth did not answer for tenant {tenant_id}: {exc}") from exc
        except ValidationError as exc:
            raise TokenUnavailable(f"auth's answer for tenant {tenant_id} is unreadable") from exc
        if answer.tenant_id != tenant_id:
            # Never cached, never used: it would send this tenant's calls to another org.
            raise TokenUnavailable(
                f"auth answered for another tenant ({answer.tenant_id}) than {tenant_id}"
            )
        if isinstance(answer, TokenErrorReply):
            if answer.code in _DISCONNECTED:
                raise NotConnected(tenant_id, answer.code.value, answer.message)
            raise TokenUnavailable(f"auth answered {answer.code.value}: {answer.message}")
        token = self._token_of(tenant_id, answer)
        self._cache[tenant_id] = token
        return token

    def _token_of(self, tenant_id: str, answer: TokenGrantedReply) -> AccessToken:
        limits = []
        if answer.expires_at is not None:
            limits.append(answer.expires_at.timestamp() - self._margin_s)
        if self._max_age_s is not None:
            limits.append(self._clock() + self._max_age_s)
        return AccessToken(
            tenant_id=tenant_id,
            value=answer.access_token.get_secret_value(),
            instance_url=answer.instance_url.rstrip("/"),
            org_id=answer.org_id,
            user_id=answer.user_id,
            valid_until=min(limits) if limits else None,
        )
