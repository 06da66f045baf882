"""Which replica refreshes a tenant: the one its partition of `auth.token-requests.v1` is
assigned to (`chat_runtime.request_reply.ownership`), and how the others ask it.

With refresh-token rotation a refresh spends the token it used; two replicas refreshing
one tenant with the same token is a reuse, and Salesforce revokes the whole family. So
only the owner refreshes; any other replica that needs a new access token for the tenant
(a page, a request read from a partition it no longer holds) sends a token request on the
topic, keyed by tenant, which the owner answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import TypeAdapter, ValidationError

from chat_contracts.auth import (
    TokenErrorCode,
    TokenErrorReply,
    TokenReply,
    TokenRequest,
)
from chat_contracts.keys import tenant_key
from chat_runtime.request_reply import LazyRequestReplyClient
from chat_runtime.request_reply.ownership import KeyOwnership
from chat_runtime.request_reply.protocol import RequestError

_REPLY: TypeAdapter[TokenReply] = TypeAdapter(TokenReply)


class OwnsEverything:
    """One replica alone (unit tests, a single process without the consumer): it owns
    every tenant."""

    def owns(self, tenant_id: str) -> bool:
        return True

    def on_release(self, hook: Callable[[], Awaitable[None]]) -> None:
        return None


class TenantOwnership:
    """The tenants whose partition of the token-request topic this replica holds."""

    def __init__(self, keys: KeyOwnership) -> None:
        self.keys = keys

    def owns(self, tenant_id: str) -> bool:
        return self.keys.owns(tenant_key(tenant_id))

    def on_release(self, hook: Callable[[], Awaitable[None]]) -> None:
        self.keys.on_release(hook)


class KafkaTokenOwner:
    """Asks the owning replica over the token-request topic, as crm-sync does."""

    def __init__(self, client: LazyRequestReplyClient, topic: str) -> None:
        self.client = client
        self._topic = topic

    async def ask(self, request: TokenRequest, timeout: float) -> TokenReply:  # noqa: ASYNC109
        try:
            reply = await self.client.request(
                self._topic, request, key=tenant_key(request.tenant_id), timeout=timeout
            )
            return _REPLY.validate_json(reply.value)
        except (RequestError, ValidationError) as exc:
            return TokenErrorReply(
                tenant_id=request.tenant_id,
                code=TokenErrorCode.REFRESH_FAILED,
                message=f"the replica owning the tenant did not answer ({type(exc).__name__})",
            )
