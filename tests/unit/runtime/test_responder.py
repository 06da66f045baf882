"""The runtime's responder, with a fake reply sender: the protocol every responder shares."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from chat_contracts.rr import ErrorReply
from chat_runtime import tracing
from chat_runtime.metrics import new_registry
from chat_runtime.request_reply import ResponderMetrics
from chat_runtime.request_reply.replies import ReplyRefused
from chat_runtime.request_reply.responder import Request, Responder, ResponderOptions

TOPIC = "echo.requests"


class Echo(BaseModel):
    tenant_id: str
    text: str


class Answer(BaseModel):
    tenant_id: str
    status: str = "ok"
    text: str


class Replies:
    def __init__(self, refuse: str | None = None) -> None:
        self.sent: list[tuple[str, str, bytes | None, dict[str, Any], float]] = []
        self.refuse = refuse

    async def send(
        self, topic: str, correlation_id: str, key: bytes | None, body: bytes, bound_s: float
    ) -> None:
        if self.refuse:
            raise ReplyRefused(self.refuse)
        self.sent.append((topic, correlation_id, key, json.loads(body), bound_s))


class World:
    def __init__(self, refuse: str | None = None, delay_s: float = 0.0) -> None:
        self.registry = new_registry()
        self.replies = Replies(refuse)
        self.handled: list[str] = []
        self.delay_s = delay_s
        options = ResponderOptions(topic=TOPIC, group_id="g", default_deadline_s=10)
        self.responder = Responder(
            options, Echo, self.handle, self.replies, ResponderMetrics(self.registry)
        )

    async def handle(self, request: Request[Echo]) -> BaseModel:
        self.handled.append(request.body.text)
        if request.body.text == "boom":
            raise RuntimeError("a bug")
        await asyncio.sleep(self.delay_s)
        return Answer(tenant_id=request.tenant_id, text=request.body.text.upper())

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, {"topic": TOPIC, **labels}) or 0.0


def headers(deadline: str | None = "in 5 s", reply_to: str = "replies.caller.1") -> dict[str, str]:
    out = {"correlation_id": "c1", "reply_to": reply_to}
    if deadline == "in 5 s":
        out["deadline"] = str(int((time.time() + 5) * 1000))
    elif deadline is not None:
        out["deadline"] = deadline
    return out


BODY = json.dumps({"tenant_id": "t1", "text": "hi"}).encode()


async def test_a_request_is_answered_on_its_reply_topic_keyed_by_tenant() -> None:
    world = World()
    await world.responder.respond(headers(), b"t1", BODY)
    ((topic, correlation_id, key, reply, bound),) = world.replies.sent
    assert (topic, correlation_id, key, reply["text"]) == ("replies.caller.1", "c1", b"t1", "HI")
    assert 5 < bound <= 6  # the deadline plus the grace, never unbounded
    assert world.metric("rr_responder_requests_total", outcome="ok") == 1


async def test_a_deadline_of_zero_or_past_is_expired_not_none() -> None:
    world = World()
    for deadline in ("0", "1000", str(int((time.time() - 1) * 1000))):
        await world.responder.respond(headers(deadline), b"t1", BODY)
    assert world.handled == []
    assert world.replies.sent == []
    assert world.metric("rr_responder_skipped_total", reason="expired") == 3


async def test_a_reply_to_outside_the_reply_prefix_is_neither_executed_nor_answered() -> None:
    world = World()
    for reply_to in ("chat.conversations.v1", "auth.refresh-tokens.v1", "replies."):
        await world.responder.respond(headers(reply_to=reply_to), b"t1", BODY)
    await world.responder.respond(headers(reply_to=""), b"t1", BODY)
    assert world.handled == []
    assert world.replies.sent == []
    assert world.metric("rr_responder_skipped_total", reason="bad_reply_to") == 3
    assert world.metric("rr_responder_skipped_total", reason="no_reply_to") == 1


async def test_protocol_errors_are_replies_of_one_shape() -> None:
    world = World()
    await world.responder.respond(headers("soon"), b"t1", BODY)  # a malformed deadline
    await world.responder.respond(headers(), b"t1", b"{not json")
    await world.responder.respond(headers(), b"t2", BODY)  # the key names another tenant
    await world.responder.respond(
        headers(), b"t1", json.dumps({"tenant_id": "t1", "text": "boom"}).encode()
    )
    codes = [reply["code"] for *_, reply, _ in world.replies.sent]
    assert codes == ["validation", "validation", "validation", "internal"]
    for *_, reply, _ in world.replies.sent:
        ErrorReply.model_validate(reply)  # the shape every responder's errors share
    assert [reply["tenant_id"] for *_, reply, _ in world.replies.sent] == ["t1"] * 4


async def test_a_slow_handler_is_answered_deadline_exceeded_before_the_deadline() -> None:
    world = World(delay_s=5)
    started = time.monotonic()
    await world.responder.respond(headers(str(int((time.time() + 0.3) * 1000))), b"t1", BODY)
    assert time.monotonic() - started < 0.3
    assert [reply["code"] for *_, reply, _ in world.replies.sent] == ["deadline_exceeded"]


async def test_a_reply_kafka_does_not_take_is_counted_never_raised() -> None:
    world = World(refuse="timeout")
    await world.responder.respond(headers(), b"t1", BODY)
    assert world.handled == ["hi"]
    assert world.metric("rr_responder_reply_failures_total", reason="timeout") == 1


async def test_serial_by_tenant_runs_one_tenants_handlers_in_order_beside_others() -> None:
    gate = asyncio.Event()
    started: list[str] = []

    async def handle(request: Request[Echo]) -> BaseModel:
        started.append(request.body.text)
        if request.body.text == "a0":
            await gate.wait()
            raise RuntimeError("its failure is its own; the next one still runs")
        return Answer(tenant_id=request.tenant_id, text=request.body.text)

    replies = Replies()
    options = ResponderOptions(topic=TOPIC, group_id="g", serial_by_tenant=True)
    responder = Responder(options, Echo, handle, replies, ResponderMetrics())

    def ask(tenant: str, text: str) -> asyncio.Task[None]:
        body = json.dumps({"tenant_id": tenant, "text": text}).encode()
        return asyncio.create_task(responder.respond(headers(), tenant.encode(), body))

    tasks = [ask("a", "a0"), ask("a", "a1"), ask("b", "b2"), ask("a", "a3")]
    await asyncio.sleep(0.05)
    assert started == ["a0", "b2"]  # a1 waits for a0; b is another tenant
    gate.set()
    await asyncio.gather(*tasks)
    assert started == ["a0", "b2", "a1", "a3"]
    assert [reply.get("code", reply["status"]) for *_, reply, _ in replies.sent] == [
        "ok",
        "internal",
        "ok",
        "ok",
    ]


async def test_a_request_is_handled_in_the_callers_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    world = World()
    tracing.install(provider)
    try:
        await world.responder.respond({**headers(), "traceparent": caller}, b"t1", BODY)
    finally:
        tracing.install(None)
    [span] = exporter.get_finished_spans()
    assert span.name == f"process {TOPIC}"
    assert span.context.trace_id == int(caller.split("-")[1], 16)
    assert span.parent is not None
    assert span.parent.span_id == int(caller.split("-")[2], 16)
    assert span.attributes is not None
    assert span.attributes["messaging.consumer.group.name"] == "g"
    assert span.attributes["messaging.message.conversation_id"] == "c1"
    assert world.handled == ["hi"]
