"""The reply-safety probe every responder's integration tests run against the real broker.

A responder must (1) never write a reply into a topic that is not a reply topic, however
the request names it, and (2) never let a reply to a topic that does not exist (its caller
is gone) hold up the next request by more than that reply's own publish bound.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from chat_contracts.topics import CHAT_CONVERSATIONS
from chat_contracts.topics import topic as topic_spec
from chat_runtime.request_reply import Reply, RequestReplyClient

DATA_TOPIC = CHAT_CONVERSATIONS.name
"""A data topic a careless or hostile caller could name as `reply_to`."""
GONE_DEADLINE_S = 2.0
GRACE_S = 1.0  # `ResponderOptions.reply_grace_s`
GONE_BOUND_S = GONE_DEADLINE_S + GRACE_S
"""How long the reply to a vanished reply topic may take, at most."""


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(topic_spec(topic).partitions)]
        consumer.assign(partitions)
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def send_raw(
    bootstrap: str, topic: str, body: bytes, key: bytes, reply_to: str, deadline_s: float
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        headers = [
            ("correlation_id", uuid.uuid4().hex.encode()),
            ("reply_to", reply_to.encode()),
            ("deadline", str(int((time.time() + deadline_s) * 1000)).encode()),
            ("content-type", b"application/json"),
        ]
        await producer.send_and_wait(topic, body, key=key, headers=headers)
    finally:
        await producer.stop()


async def probe(
    bootstrap: str, request_topic: str, body: bytes, key: bytes, check: Callable[[Reply], None]
) -> float:
    """Send a request answering into `DATA_TOPIC`, one answering into a reply topic that
    does not exist, then a good one; assert the data topic got nothing and the good one
    came back within the vanished reply's bound. The good one's round trip, in seconds."""
    before = await end_offsets(bootstrap, DATA_TOPIC)
    await send_raw(bootstrap, request_topic, body, key, DATA_TOPIC, deadline_s=10)
    gone = f"replies.vanished.{uuid.uuid4().hex[:10]}"
    await send_raw(bootstrap, request_topic, body, key, gone, deadline_s=GONE_DEADLINE_S)
    async with RequestReplyClient(bootstrap, name="reply-safety") as client:
        started = time.monotonic()
        reply = await client.request(request_topic, body, key=key, timeout=30)
        took = time.monotonic() - started
    check(reply)
    assert took < GONE_BOUND_S, f"the next request waited {took:.2f}s behind a vanished reply"
    await asyncio.sleep(1.0)  # the misdirected request was read before the good one
    assert await end_offsets(bootstrap, DATA_TOPIC) == before, "a reply went into a data topic"
    return took
