"""Replies go out on a plain aiokafka producer, one send per reply, confirmed.

One producer for every reply topic: idempotent, `acks="all"` (a reply counts as sent once
every in-sync replica has it), no linger (a reply is latency, not throughput). It is
created at startup because aiokafka binds to the running loop.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from chat_runtime.rr_protocol import CONTENT_TYPE, CORRELATION_ID, JSON_CONTENT_TYPE


class KafkaReplies:
    """`await replies.send(topic, correlation_id, body)` publishes one reply."""

    def __init__(self, bootstrap: str, *, client_id: str, **client_options: Any) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._options = client_options  # connection security
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        """Whether replies can be sent."""
        return self._producer is not None

    async def start(self) -> None:
        """Connect the producer."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-replies",
            acks="all",
            enable_idempotence=True,
            linger_ms=0,
            **self._options,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, topic: str, correlation_id: str, body: bytes) -> None:
        """Publish one JSON reply and wait for Kafka's confirmation (KafkaError if refused)."""
        if self._producer is None:
            raise RuntimeError("reply producer not started")
        headers = [
            (CORRELATION_ID, correlation_id.encode()),
            (CONTENT_TYPE, JSON_CONTENT_TYPE.encode()),
        ]
        await self._producer.send_and_wait(topic, body, headers=headers)
