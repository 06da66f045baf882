"""The ASGI endpoint, called in-process: size limit, methods, JSON answers."""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from typing import Any

from ingest_service.entrypoints.webhook import WebhookEndpoint
from ingest_service.handlers.events import WebhookRequest, WebhookResponse
from tests.unit.ingest.factories import metrics, sample

Message = dict[str, Any]


async def call(
    endpoint: WebhookEndpoint,
    chunks: Sequence[bytes] = (b"{}",),
    headers: Sequence[tuple[bytes, bytes]] = (),
    method: str = "POST",
) -> tuple[int, dict[str, bytes], dict[str, Any]]:
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": "/webhooks/comm100",
        "headers": list(headers),
    }
    await endpoint(scope, receive, send)
    start, body = sent
    return (
        start["status"],
        {k.decode(): v for k, v in start["headers"]},
        json.loads(body["body"]),
    )


class Recorder:
    def __init__(self, response: WebhookResponse | None = None, error: bool = False) -> None:
        self.requests: list[WebhookRequest] = []
        self.response = response or WebhookResponse(202, {"status": "accepted"}, "accepted")
        self.error = error

    async def __call__(self, request: WebhookRequest) -> WebhookResponse:
        self.requests.append(request)
        if self.error:
            raise RuntimeError("bug")
        return self.response


async def test_the_body_and_signature_headers_reach_the_use_case() -> None:
    handle = Recorder()
    m = metrics()
    endpoint = WebhookEndpoint(handle, max_body_bytes=100, metrics=m)
    headers = [(b"x-webhook-timestamp", b"123"), (b"x-webhook-signature", b"sha256=ab")]
    status, response_headers, body = await call(endpoint, [b'{"a":', b"1}"], headers)
    assert (status, body) == (202, {"status": "accepted"})
    assert response_headers["content-type"] == b"application/json"
    assert handle.requests == [WebhookRequest(b'{"a":1}', b"123", b"sha256=ab")]
    assert sample(m, "ingest_webhook_requests_total", status="202", outcome="accepted") == 1


async def test_a_body_over_the_limit_is_413_declared_or_streamed() -> None:
    handle = Recorder()
    endpoint = WebhookEndpoint(handle, max_body_bytes=10, metrics=metrics())
    declared = await call(endpoint, [b"x" * 11], [(b"content-length", b"11")])
    streamed = await call(endpoint, [b"x" * 6, b"x" * 5])
    assert declared[0] == streamed[0] == 413
    assert declared[2]["error"] == "payload_too_large"
    assert handle.requests == []
    assert (await call(endpoint, [b"x" * 10]))[0] == 202  # the limit itself is fine


async def test_only_post_is_allowed() -> None:
    status, headers, _ = await call(
        WebhookEndpoint(Recorder(), max_body_bytes=10, metrics=metrics()), method="GET"
    )
    assert status == 405
    assert headers["allow"] == b"POST"


async def test_a_bug_answers_500_so_the_sender_retries() -> None:
    endpoint = WebhookEndpoint(Recorder(error=True), max_body_bytes=10, metrics=metrics())
    assert (await call(endpoint))[0] == 500
