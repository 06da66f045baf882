"""`auth.token-requests.v1`: the request/reply protocol is the runtime's responder
(`chat_runtime.request_reply.consumer`); this is the one thing it calls per request.

The body arrives validated as a `TokenRequest`; a request past its deadline was skipped,
one that did not parse answered `validation`, by the responder. Replies carry access
tokens, which is why the responder only ever answers to `replies.` topics.
"""

from __future__ import annotations

from pydantic import BaseModel

from auth_service.handlers.tokens import TokenService
from chat_contracts.auth import TokenRequest
from chat_runtime.request_reply.responder import Handler, Request

REQUEST_TYPE = TokenRequest


def token_request_handler(tokens: TokenService) -> Handler[TokenRequest]:
    """The responder's handler: a token, or why there is none, by the request's deadline."""

    async def handle(request: Request[TokenRequest]) -> BaseModel:
        return await tokens.issue(request.body, deadline=request.deadline)

    return handle
