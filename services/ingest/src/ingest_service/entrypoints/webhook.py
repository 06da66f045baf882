"""`POST /webhooks/comm100` as a bare ASGI app, mounted on the service's HTTP port.

Bare ASGI rather than a web framework: the endpoint reads one body under a size limit and
two headers, and answers JSON; at thousands of requests a second a framework's routing
and request objects would cost more than the rest of the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from faststream.asgi.types import Receive, Scope, Send

from chat_runtime import tracing
from chat_runtime.logging import get_logger
from ingest_service.handlers.events import WebhookRequest, WebhookResponse
from ingest_service.metrics import IngestMetrics

WEBHOOK_PATH: Final = "/webhooks/comm100"
TIMESTAMP_HEADER: Final = b"x-webhook-timestamp"
SIGNATURE_HEADER: Final = b"x-webhook-signature"

log = get_logger(__name__)
Handle = Callable[[WebhookRequest], Awaitable[WebhookResponse]]


class WebhookEndpoint:
    """Reads the request (413 past `max_body_bytes`), calls the use case, answers JSON."""

    def __init__(self, handle: Handle, *, max_body_bytes: int, metrics: IngestMetrics) -> None:
        self._handle = handle
        self._max = max_body_bytes
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if tracing.enabled():
            await self._traced(scope, receive, send)
            return
        started = time.perf_counter()
        response = await self._respond_to(scope, receive)
        await _send_json(send, response.status, response.body, response.status == 405)
        self._metrics.webhook(response.status, response.outcome, time.perf_counter() - started)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The chat's trace starts here (a context the caller sent is only linked).
        attributes = {
            "http.request.method": str(scope.get("method", "")),
            "http.route": WEBHOOK_PATH,
            "url.path": str(scope.get("path", "")),
            "url.scheme": str(scope.get("scheme", "http")),
        }
        headers = ((k.decode("latin-1"), v) for k, v in scope.get("headers", ()))
        with tracing.server_span(f"POST {WEBHOOK_PATH}", attributes, headers) as span:
            started = time.perf_counter()
            response = await self._respond_to(scope, receive)
            if span is not None:
                span.set_attribute("http.response.status_code", response.status)
                span.set_attribute("webhook.outcome", response.outcome)
            await _send_json(send, response.status, response.body, response.status == 405)
            self._metrics.webhook(response.status, response.outcome, time.perf_counter() - started)

    async def _respond_to(self, scope: Scope, receive: Receive) -> WebhookResponse:
        if scope.get("method") != "POST":
            return WebhookResponse(405, {"error": "method_not_allowed"}, "method_not_allowed")
        timestamp = signature = None
        for name, value in scope.get("headers", ()):
            if name == TIMESTAMP_HEADER:
                timestamp = value
            elif name == SIGNATURE_HEADER:
                signature = value
            elif name == b"content-length" and value.isdigit() and int(value) > self._max:
                return _too_large(self._max)
        body = await _read_body(receive, self._max)
        if body is None:
            return _too_large(self._max)
        try:
            return await self._handle(WebhookRequest(body, timestamp, signature))
        except Exception:
            log.exception("webhook handling failed")
            return WebhookResponse(500, {"error": "internal_error"}, "internal_error")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> WebhookResponse:
    return WebhookResponse(
        413, {"error": "payload_too_large", "detail": f"limit {limit} bytes"}, "too_large"
    )


async def _send_json(send: Send, status: int, body: dict[str, Any], allow: bool) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if allow:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
