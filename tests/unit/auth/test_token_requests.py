"""auth's token requests behind the runtime's responder: validation, deadlines, replies."""

from __future__ import annotations

import json
from typing import Any

from auth_service.entrypoints.token_requests import REQUEST_TYPE, token_request_handler
from chat_runtime.request_reply.responder import Responder, ResponderOptions
from tests.unit.auth.conftest import TENANT, World


class CapturedReplies:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, dict[str, Any]]] = []

    async def send(
        self, topic: str, correlation_id: str, key: bytes | None, body: bytes, bound_s: float
    ) -> None:
        self.sent.append((topic, key, json.loads(body)))


def entry(world: World) -> tuple[Responder[Any], CapturedReplies]:
    replies = CapturedReplies()
    options = ResponderOptions(topic="tokens", group_id="auth", default_deadline_s=5)
    handler = Responder(
        options,
        REQUEST_TYPE,
        token_request_handler(world.tokens),
        replies,
        world.metrics.suite.responder,
        clock=world.clock,
    )
    return handler, replies


def headers(world: World, deadline_in: float = 5) -> dict[str, str]:
    deadline = int((world.clock.epoch() + deadline_in) * 1000)
    return {"correlation_id": "c1", "reply_to": "replies.x.y", "deadline": str(deadline)}


async def test_a_granted_token_is_replied_keyed_by_tenant(world: World) -> None:
    await world.connected()
    handler, replies = entry(world)
    await handler.respond(headers(world), None, json.dumps({"tenant_id": TENANT}).encode())
    ((topic, key, body),) = replies.sent
    assert (topic, key) == ("replies.x.y", TENANT.encode())
    assert body["status"] == "ok"
    assert body["access_token"] == "00D5g000004XyZa!access-1"


async def test_bad_bodies_get_a_validation_error_not_a_crash(world: World) -> None:
    handler, replies = entry(world)
    for body in (
        b"not json",
        b'{"tenant_id": "a|b"}',
        b'{"tenant_id": "t", "rejected_token": "x"}',
    ):
        await handler.respond(headers(world), None, body)
    codes = [body["code"] for _, _, body in replies.sent]
    assert codes == ["validation"] * 3
    assert replies.sent[2][2]["tenant_id"] == "t"
    assert "rejected_token" in replies.sent[2][2]["message"]
    assert replies.sent[0][1] is None  # no tenant known: no key


async def test_a_request_past_its_deadline_is_neither_executed_nor_answered(world: World) -> None:
    await world.connected()
    handler, replies = entry(world)
    await handler.respond(headers(world, -1), None, json.dumps({"tenant_id": TENANT}).encode())
    assert replies.sent == []
    assert world.sf.refreshes == 0


async def test_an_unexpected_failure_is_an_internal_error_reply(world: World) -> None:
    await world.connected()
    handler, replies = entry(world)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    world.tokens.issue = broken  # type: ignore[method-assign,assignment]
    await handler.respond(headers(world), None, json.dumps({"tenant_id": TENANT}).encode())
    assert replies.sent[0][2]["code"] == "internal"
