"""The front end's limit on a request's head: URI and headers together at most 16,384
bytes; past it 431 Request Header Fields Too Large, or 414 URI Too Long when the URI alone
is over [S21]. The answers are the front end's HTML pages, as a real 414 was captured
(`<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>`); the 431 page is inferred."""

from __future__ import annotations

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_REQUEST_HEAD = 16_384
_REASONS = {414: "URI Too Long", 431: "Request Header Fields Too Large"}


def refusal(scope: Scope) -> int | None:
    """414 or 431 when the request's head is over the limit, else None."""
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    uri = len(path) + (1 + len(query) if query else 0)
    # Each header line is `Name: value` and a CRLF.
    head = uri + sum(len(k) + len(v) + 4 for k, v in scope["headers"])
    if uri > MAX_REQUEST_HEAD:
        return 414
    if head > MAX_REQUEST_HEAD:
        return 431
    return None


class RequestHeadLimit:
    """ASGI middleware refusing over-long request heads under `/services`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/services"):
            status = refusal(scope)
            if status is not None:
                body = f"<h1>Bad Message {status}</h1><pre>reason: {_REASONS[status]}</pre>"
                await HTMLResponse(body, status)(scope, receive, send)
                return
        await self.app(scope, receive, send)
