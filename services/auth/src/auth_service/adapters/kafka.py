"""The one Kafka producer auth writes with (sealed tokens and connection events).

aiokafka clients must be created inside the running event loop, so the producer is made
at `start()`, not when the app is built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import RecordMetadata

_HEADERS = [("content-type", b"application/json")]


class KafkaWriter:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._options = dict(kafka_options or {})  # connection security
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # Idempotent, acks=all: a write returns once every in-sync replica has it.
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-producer",
            acks="all",
            enable_idempotence=True,
            linger_ms=0,
            **self._options,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def write(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> RecordMetadata:
        """Write one JSON record (or a tombstone) and wait for the broker's ack."""
        if self._producer is None:
            raise KafkaConnectionError("the producer is not started")
        metadata: RecordMetadata = await self._producer.send_and_wait(
            topic, value, key=key, headers=[*_HEADERS, *(headers or ())]
        )
        return metadata

    async def enqueue(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[RecordMetadata]:
        """Hand a record to the producer without waiting for the broker's ack; the
        returned future resolves (or fails) once the broker answered."""
        if self._producer is None:
            raise KafkaConnectionError("the producer is not started")
        delivery: asyncio.Future[RecordMetadata] = await self._producer.send(
            topic, value, key=key, headers=[*_HEADERS, *headers]
        )
        return delivery
