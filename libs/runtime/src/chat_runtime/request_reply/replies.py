"""Replies go out on one producer per responder, to reply topics only, bounded in time.

Why not FastStream's own reply path: it publishes to whatever `reply_to` names, so a
caller could have a responder write its reply (an access token) into a data topic; and a
reply to a topic that no longer exists (its caller stopped) waits for the topic's metadata
until the producer gives up, holding its partition, and the failure makes the request
redeliver for ever. Here a reply to anything but a `replies.` topic is refused, and a
publish gets until the request's deadline plus `grace_s` to be acknowledged; a failure is
counted and dropped (the caller has given up by then, and asks again if it still cares).

The producer is idempotent with `acks="all"` (a reply counts as sent once every in-sync
replica has it) and no linger (a reply is latency, not throughput).
"""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError

from chat_runtime.kafka import KafkaKit, ManagedProducer
from chat_runtime.request_reply.protocol import (
    CONTENT_TYPE,
    CORRELATION_ID,
    JSON_CONTENT_TYPE,
    is_reply_topic,
)


class ReplyRefused(Exception):
    """A reply was not delivered; `reason` is a metric label (fixed words only)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class ReplyPublisher:
    """`await replies.send(topic, correlation_id, key, body, bound_s)` publishes one reply."""

    def __init__(self, kit: KafkaKit) -> None:
        self._producer = ManagedProducer(kit, "replies")

    @property
    def started(self) -> bool:
        """Whether replies can be sent (readiness)."""
        return self._producer.started

    async def start(self) -> None:
        """Connect the producer."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and close the producer."""
        await self._producer.stop()

    async def send(
        self,
        topic: str,
        correlation_id: str,
        key: bytes | None,
        body: bytes,
        bound_s: float,
    ) -> None:
        """Publish one JSON reply and wait for Kafka's acknowledgement, at most `bound_s`;
        `ReplyRefused` when the topic is not a reply topic or Kafka did not take it."""
        if not is_reply_topic(topic):
            raise ReplyRefused("bad_reply_to", topic[:200])
        headers = [
            (CORRELATION_ID, correlation_id.encode()),
            (CONTENT_TYPE, JSON_CONTENT_TYPE.encode()),
        ]
        try:
            producer = self._producer.producer
            async with asyncio.timeout(max(0.0, bound_s)):
                delivery = await producer.send(topic, body, key=key, headers=headers)
                # Shielded: the bound must not cancel aiokafka's own future.
                await asyncio.shield(delivery)
        except TimeoutError:
            raise ReplyRefused("timeout", topic[:200]) from None
        except (KafkaError, RuntimeError) as exc:
            raise ReplyRefused(type(exc).__name__, topic[:200]) from exc
