"""Replies of the request/reply protocol, published by auth itself.

FastStream would publish a subscriber's return value to `reply_to` by itself, but then
a reply to a topic that no longer exists (its caller stopped) blocks the partition until
the producer's metadata wait gives up, and the failure makes the request redeliver for
ever. Here a reply gets until the request's deadline (plus a little) to be handed to the
producer, and a failure is logged and dropped: the caller has timed out by then and asks
again if it still cares.
Replies carry access tokens, so they only go to reply topics (`replies.` prefix).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter

from auth_service.adapters.kafka import KafkaWriter
from chat_contracts.topics import REPLY_TOPIC_PREFIX
from chat_runtime.logging import get_logger
from chat_runtime.rr_protocol import CORRELATION_ID, REPLY_TO

log = get_logger(__name__)

GRACE_S = 1.0


@dataclass(frozen=True, slots=True)
class OutgoingReply:
    key: bytes | None
    value: bytes


class KafkaReplies:
    def __init__(self, writer: KafkaWriter, *, dropped: Counter) -> None:
        self._writer = writer
        self._dropped = dropped

    async def send(
        self, request_headers: Mapping[str, str], reply: OutgoingReply, *, time_left: float
    ) -> None:
        """Publish `reply` to the request's `reply_to`; never raises."""
        reply_to = request_headers.get(REPLY_TO, "")
        if not reply_to.startswith(REPLY_TOPIC_PREFIX):
            self._drop("bad_reply_to", reply_to)
            return
        headers = [(CORRELATION_ID, request_headers.get(CORRELATION_ID, "").encode())]
        try:
            # Only the hand-over is awaited (it waits for the topic's metadata, which never
            # comes for a deleted topic); the broker's ack is not: the next request of the
            # partition need not wait for it.
            async with asyncio.timeout(max(0.0, time_left) + GRACE_S):
                delivery = await self._writer.enqueue(reply_to, reply.key, reply.value, headers)
        except (TimeoutError, KafkaError) as exc:
            self._drop(type(exc).__name__, reply_to)
            return
        delivery.add_done_callback(lambda done: self._delivered(done, reply_to))

    def _delivered(self, delivery: asyncio.Future[RecordMetadata], reply_to: str) -> None:
        if delivery.cancelled():
            self._drop("cancelled", reply_to)
        elif (error := delivery.exception()) is not None:
            self._drop(type(error).__name__, reply_to)

    def _drop(self, reason: str, reply_to: str) -> None:
        self._dropped.labels(reason).inc()
        log.warning("reply not delivered", reason=reason, reply_to=reply_to[:200])
