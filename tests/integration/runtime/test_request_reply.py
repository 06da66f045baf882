"""The request/reply client against the real broker, with a FastStream responder."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chat_runtime import tracing
from chat_runtime.request_reply import (
    ClientClosed,
    RequestReplyClient,
    RequestTimeout,
    is_expired,
)
from chat_runtime.request_reply.metrics import RequestReplyMetrics
from tests.kafka_helpers import temp_topic, topic_exists


@pytest.fixture
async def echo_topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A topic answered by a FastStream subscriber that echoes the body and a few headers."""
    async with temp_topic(kafka_bootstrap, "rr-echo", partitions=3) as topic:
        broker = KafkaBroker(kafka_bootstrap, logger=None)

        @broker.subscriber(
            topic, group_id=f"echo-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest"
        )
        async def echo(body: dict[str, Any], msg: KafkaMessage) -> dict[str, Any]:
            return {"echo": body, "deadline_expired": is_expired(msg.headers)}

        await broker.start()
        try:
            yield topic
        finally:
            await broker.stop()


@pytest.fixture
async def client(kafka_bootstrap: str) -> AsyncIterator[RequestReplyClient]:
    async with RequestReplyClient(kafka_bootstrap, name="test", metrics=RequestReplyMetrics()) as c:
        yield c


async def test_round_trip_through_a_faststream_responder(
    client: RequestReplyClient, echo_topic: str
) -> None:
    reply = await client.request(echo_topic, {"n": 1}, key=b"tenant-1", timeout=20)
    assert reply.json() == {"echo": {"n": 1}, "deadline_expired": False}
    assert reply.correlation_id
    assert reply.headers["correlation_id"] == reply.correlation_id
    assert client.in_flight == 0


async def test_a_thousand_concurrent_requests_all_answered_correctly(
    client: RequestReplyClient, echo_topic: str
) -> None:
    await client.request(echo_topic, {"warm": True}, timeout=20)  # group join before the burst

    async def one(i: int) -> int:
        reply = await client.request(echo_topic, {"i": i}, key=str(i % 7).encode(), timeout=60)
        return int(reply.json()["echo"]["i"])

    tasks = [asyncio.create_task(one(i)) for i in range(1000)]
    await asyncio.sleep(0)
    results = await asyncio.gather(*tasks)
    # Each reply went to the request that asked it: none lost, none crossed.
    assert results == list(range(1000))
    assert client.in_flight == 0


async def test_responder_down_times_out_cleanly(
    kafka_bootstrap: str, client: RequestReplyClient
) -> None:
    async with temp_topic(kafka_bootstrap, "rr-nobody") as silent_topic:
        started = time.monotonic()
        with pytest.raises(RequestTimeout, match="no reply from"):
            await client.request(silent_topic, {"hello": "?"}, timeout=1.0)
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0
    assert client.in_flight == 0  # no leaked future


async def test_late_and_unknown_replies_are_counted_and_dropped(
    kafka_bootstrap: str, echo_topic: str
) -> None:
    metrics = RequestReplyMetrics()
    async with RequestReplyClient(kafka_bootstrap, name="test", metrics=metrics) as client:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                client.reply_topic,
                b'{"stray": true}',
                headers=[("correlation_id", b"not-a-request-of-ours")],
            )
            await producer.send_and_wait(client.reply_topic, b"{}")  # no correlation id at all
        finally:
            await producer.stop()
        # A real request still works after the strays.
        reply = await client.request(echo_topic, {"after": "strays"}, timeout=20)
        assert reply.json()["echo"] == {"after": "strays"}
        for _ in range(50):
            if metrics.unknown_replies._value.get() >= 2:
                break
            await asyncio.sleep(0.1)
        assert metrics.unknown_replies._value.get() == 2
        assert metrics.requests.labels(topic=echo_topic, outcome="ok")._value.get() == 1


async def test_stop_fails_waiting_requests_and_deletes_the_reply_topic(
    kafka_bootstrap: str,
) -> None:
    async with temp_topic(kafka_bootstrap, "rr-nobody") as silent_topic:
        client = RequestReplyClient(kafka_bootstrap, name="test")
        await client.start()
        assert await topic_exists(kafka_bootstrap, client.reply_topic)
        waiting = asyncio.create_task(client.request(silent_topic, {"x": 1}, timeout=30))
        await asyncio.sleep(0.3)
        await client.stop()
        with pytest.raises(ClientClosed):
            await waiting
        assert not await topic_exists(kafka_bootstrap, client.reply_topic)


async def test_request_carries_the_protocol_headers(
    kafka_bootstrap: str, client: RequestReplyClient
) -> None:
    async with temp_topic(kafka_bootstrap, "rr-headers") as topic:
        broker = KafkaBroker(kafka_bootstrap, logger=None)
        seen: dict[str, str] = {}

        @broker.subscriber(topic, group_id="hdr", auto_offset_reset="earliest")
        async def capture(body: dict[str, Any], msg: KafkaMessage) -> dict[str, str]:
            seen.update(msg.headers)
            return {"ok": "yes"}

        await broker.start()
        try:
            before = time.time()
            await client.request(topic, {"a": 1}, timeout=20, headers={"x-tenant": "t1"})
        finally:
            await broker.stop()
    assert seen["reply_to"] == client.reply_topic
    assert client.reply_topic.startswith("replies.test.")
    assert len(seen["correlation_id"]) == 32
    assert before + 19 < int(seen["deadline"]) / 1000 < before + 21
    assert seen["content-type"] == "application/json"
    assert seen["x-tenant"] == "t1"


async def test_request_before_start_is_refused(kafka_bootstrap: str) -> None:
    client = RequestReplyClient(kafka_bootstrap, name="test")
    with pytest.raises(RuntimeError, match="start"):
        await client.request("anything", b"{}")


async def test_a_request_carries_the_callers_trace(kafka_bootstrap: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[str] = []
    async with temp_topic(kafka_bootstrap, "rr-traced") as topic:
        broker = KafkaBroker(kafka_bootstrap, logger=None)

        @broker.subscriber(
            topic, group_id=f"traced-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest"
        )
        async def answer(body: dict[str, Any], msg: KafkaMessage) -> dict[str, Any]:
            seen.append(msg.headers.get("traceparent", ""))
            return {}

        await broker.start()
        tracing.install(provider)
        try:
            async with RequestReplyClient(kafka_bootstrap, name="test") as client:
                with tracing.span("caller") as caller:
                    assert caller is not None
                    await client.request(topic, {}, key=b"t1", timeout=20)
        finally:
            tracing.install(None)
            await broker.stop()
    [sent] = [s for s in exporter.get_finished_spans() if s.name == f"send {topic}"]
    assert sent.parent is not None
    assert sent.parent.span_id == caller.get_span_context().span_id
    [traceparent] = seen
    assert traceparent.split("-")[1:3] == [
        f"{sent.context.trace_id:032x}",
        f"{sent.context.span_id:016x}",
    ]
