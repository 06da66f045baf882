"""The token-request entrypoint: validation, deadlines, reply routing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from aiokafka.errors import KafkaTimeoutError

from auth_service.adapters.replies import KafkaReplies, OutgoingReply
from auth_service.entrypoints.token_requests import TokenRequests
from tests.unit.auth.conftest import TENANT, World


class CapturedReplies(KafkaReplies):
    def __init__(self) -> None:
        self.sent: list[tuple[Mapping[str, str], OutgoingReply]] = []

    async def send(
        self, request_headers: Mapping[str, str], reply: OutgoingReply, *, time_left: float
    ) -> None:
        self.sent.append((request_headers, reply))


def entry(world: World) -> tuple[TokenRequests, CapturedReplies]:
    replies = CapturedReplies()
    handler = TokenRequests(
        world.tokens, replies, metrics=world.metrics, clock=world.clock, default_timeout_s=5
    )
    return handler, replies


def headers(world: World, deadline_in: float = 5) -> dict[str, str]:
    deadline = int((world.clock.epoch() + deadline_in) * 1000)
    return {"correlation_id": "c1", "reply_to": "replies.x.y", "deadline": str(deadline)}


def body_of(reply: OutgoingReply) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reply.value)
    return data


async def test_a_granted_token_is_replied_keyed_by_tenant(world: World) -> None:
    await world.connected()
    handler, replies = entry(world)
    await handler.handle(json.dumps({"tenant_id": TENANT}).encode(), headers(world))
    ((_, reply),) = replies.sent
    assert reply.key == TENANT.encode()
    assert body_of(reply)["status"] == "ok"
    assert body_of(reply)["access_token"] == "00D5g000004XyZa!access-1"


async def test_bad_bodies_get_a_validation_error_not_a_crash(world: World) -> None:
    handler, replies = entry(world)
    for body in (
        b"not json",
        b'{"tenant_id": "a|b"}',
        b'{"tenant_id": "t", "rejected_token": "x"}',
    ):
        await handler.handle(body, headers(world))
    codes = [body_of(r)["code"] for _, r in replies.sent]
    assert codes == ["validation"] * 3
    assert body_of(replies.sent[2][1])["tenant_id"] == "t"
    assert "rejected_token" in body_of(replies.sent[2][1])["message"]
    assert replies.sent[0][1].key is None


async def test_a_request_past_its_deadline_is_neither_executed_nor_answered(world: World) -> None:
    await world.connected()
    handler, replies = entry(world)
    await handler.handle(json.dumps({"tenant_id": TENANT}).encode(), headers(world, -1))
    assert replies.sent == []
    assert world.sf.refreshes == 0


async def test_an_unexpected_failure_is_an_internal_error_reply(world: World) -> None:
    await world.connected()
    handler, replies = entry(world)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    world.tokens.issue = broken  # type: ignore[method-assign,assignment]
    await handler.handle(json.dumps({"tenant_id": TENANT}).encode(), headers(world))
    assert body_of(replies.sent[0][1])["code"] == "internal"


class SlowWriter:
    """Hands records over after `delay`; the delivery then fails when `fail` is set."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.writes: list[tuple[str, list[tuple[str, bytes]]]] = []

    async def enqueue(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        await asyncio.sleep(self.delay)
        self.writes.append((topic, headers))
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            delivery.set_exception(KafkaTimeoutError())
        else:
            delivery.set_result(None)
        return delivery


async def test_replies_go_only_to_reply_topics_with_the_correlation_id(world: World) -> None:
    writer = SlowWriter()
    replies = KafkaReplies(writer, dropped=world.metrics.replies_dropped)  # type: ignore[arg-type]
    reply = OutgoingReply(b"t", b"{}")
    await replies.send({"reply_to": "chat.raw.v1", "correlation_id": "c"}, reply, time_left=1)
    await replies.send({"correlation_id": "c"}, reply, time_left=1)
    await replies.send({"reply_to": "replies.a.b", "correlation_id": "c"}, reply, time_left=1)
    assert writer.writes == [("replies.a.b", [("correlation_id", b"c")])]
    dropped = world.metrics.suite.registry.get_sample_value(
        "auth_replies_dropped_total", {"reason": "bad_reply_to"}
    )
    assert dropped == 2


async def test_a_reply_that_cannot_be_delivered_is_dropped_not_retried(world: World) -> None:
    import auth_service.adapters.replies as module

    writer = SlowWriter(delay=5)
    replies = KafkaReplies(writer, dropped=world.metrics.replies_dropped)  # type: ignore[arg-type]
    original, module.GRACE_S = module.GRACE_S, 0.01
    try:
        await replies.send(
            {"reply_to": "replies.gone", "correlation_id": "c"},
            OutgoingReply(None, b"{}"),
            time_left=0,
        )
    finally:
        module.GRACE_S = original
    assert writer.writes == []
    assert (
        world.metrics.suite.registry.get_sample_value(
            "auth_replies_dropped_total", {"reason": "TimeoutError"}
        )
        == 1
    )


async def test_a_reply_the_broker_refuses_is_counted(world: World) -> None:
    writer = SlowWriter(fail=True)
    replies = KafkaReplies(writer, dropped=world.metrics.replies_dropped)  # type: ignore[arg-type]
    await replies.send(
        {"reply_to": "replies.a.b", "correlation_id": "c"}, OutgoingReply(None, b"{}"), time_left=1
    )
    await asyncio.sleep(0)
    dropped = world.metrics.suite.registry.get_sample_value(
        "auth_replies_dropped_total", {"reason": "KafkaTimeoutError"}
    )
    assert dropped == 1
