"""bot-actions behind the runtime's responder: parsing, deadlines, one reply per request."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bot_actions.entrypoints.requests import REQUEST_TYPE, bot_action_handler
from bot_actions.handlers.actions import BotActions
from bot_actions.metrics import build_bot_metrics
from chat_runtime.metrics import new_registry
from chat_runtime.request_reply import ResponderMetrics
from chat_runtime.request_reply.responder import Responder, ResponderOptions
from tests.unit.bot_actions.fakes import FakeSalesforce


class Replies:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def send(
        self, topic: str, correlation_id: str, key: bytes | None, body: bytes, bound_s: float
    ) -> None:
        self.sent.append((topic, correlation_id, json.loads(body)))


class SlowSalesforce(FakeSalesforce):
    async def objects(self, tenant_id: str) -> Any:
        await asyncio.sleep(5)
        return ()


def _responder(sf: FakeSalesforce | None = None) -> tuple[Responder[Any], Replies, Any]:
    registry = new_registry()
    replies = Replies()
    options = ResponderOptions(topic="bot", group_id="g", default_deadline_s=10)
    handler = bot_action_handler(BotActions(sf or FakeSalesforce()), build_bot_metrics(registry))
    responder = Responder(options, REQUEST_TYPE, handler, replies, ResponderMetrics(registry))
    return responder, replies, registry


def _headers(
    deadline_s: float | None = 5.0, reply_to: str = "replies.bot-runtime.x"
) -> dict[str, str]:
    headers = {"correlation_id": "c1", "reply_to": reply_to}
    if deadline_s is not None:
        headers["deadline"] = str(int((time.time() + deadline_s) * 1000))
    return headers


async def test_a_valid_request_gets_one_reply() -> None:
    responder, replies, registry = _responder()
    body = json.dumps({"action": "list_objects", "tenant_id": "t1"}).encode()
    await responder.respond(_headers(), b"t1", body)
    assert [(t, c, r["status"]) for t, c, r in replies.sent] == [
        ("replies.bot-runtime.x", "c1", "ok")
    ]
    sample = {"action": "list_objects", "outcome": "ok"}
    assert registry.get_sample_value("bot_actions_requests_total", sample) == 1


async def test_bad_requests_get_validation_replies() -> None:
    responder, replies, _ = _responder()
    for key, body in [
        (b"t1", b"{not json"),
        (b"t1", json.dumps({"action": "delete_everything", "tenant_id": "t1"}).encode()),
        (b"t1", json.dumps({"action": "describe_object", "tenant_id": "t1"}).encode()),
        (b"t2", json.dumps({"action": "list_objects", "tenant_id": "t1"}).encode()),
        (b"\xff", json.dumps({"action": "list_objects", "tenant_id": "t1"}).encode()),
    ]:
        await responder.respond(_headers(), key, body)
    assert [r["code"] for _, _, r in replies.sent] == ["validation"] * 5
    assert [r["tenant_id"] for _, _, r in replies.sent] == ["t1"] * 5
    assert replies.sent[2][2]["fields"] == ["describe_object.object"]


async def test_expired_and_unanswerable_requests_are_not_executed() -> None:
    sf = FakeSalesforce()
    responder, replies, registry = _responder(sf)
    body = json.dumps({"action": "list_objects", "tenant_id": "t1"}).encode()
    await responder.respond(_headers(deadline_s=-1), b"t1", body)
    await responder.respond(_headers(reply_to=""), b"t1", body)
    await responder.respond(_headers(reply_to=""), b"t1", b"garbage")
    assert replies.sent == []
    assert sf.calls == []
    skipped = "rr_responder_skipped_total"
    assert registry.get_sample_value(skipped, {"topic": "bot", "reason": "expired"}) == 1
    assert registry.get_sample_value(skipped, {"topic": "bot", "reason": "no_reply_to"}) == 2


async def test_a_slow_salesforce_is_answered_before_the_deadline() -> None:
    responder, replies, _ = _responder(SlowSalesforce())
    body = json.dumps({"action": "list_objects", "tenant_id": "t1"}).encode()
    started = time.monotonic()
    await responder.respond(_headers(deadline_s=0.3), b"t1", body)
    assert time.monotonic() - started < 0.3
    assert [r["code"] for _, _, r in replies.sent] == ["deadline_exceeded"]


async def test_without_a_deadline_header_the_default_applies() -> None:
    responder, replies, _ = _responder()
    body = json.dumps({"action": "list_objects", "tenant_id": "t1"}).encode()
    await responder.respond(_headers(deadline_s=None), None, body)
    assert [r["status"] for _, _, r in replies.sent] == ["ok"]
