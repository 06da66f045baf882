"""The producer crm-sync writes results, retries, dead letters and forwarded chats with:
acks=all, idempotent, records queued in order and confirmed together."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Final

from aiokafka import AIOKafkaProducer

from chat_contracts.topics import LARGE_MESSAGE_BYTES
from crm_sync.adapters.ports import OutRecord, PublishError

MAX_BATCH_BYTES: Final = 512 * 1024


class KafkaPublisher:
    """`Publisher` over one aiokafka producer for the process."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        linger_ms: int = 5,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            **(kafka_options or {}),  # connection security
            "bootstrap_servers": [s.strip() for s in bootstrap_servers.split(",") if s.strip()],
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "max_batch_size": MAX_BATCH_BYTES,
            "max_request_size": LARGE_MESSAGE_BYTES,
        }
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        """Connected."""
        return self._producer is not None

    async def start(self) -> None:
        """Connect (raises when Kafka cannot be reached)."""
        if self._producer is None:
            producer = AIOKafkaProducer(**self._options)
            await producer.start()
            self._producer = producer

    async def stop(self) -> None:
        """Flush and disconnect."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def publish_many(self, records: Sequence[OutRecord]) -> None:
        """Queue every record in order, then wait for all confirmations."""
        if not records:
            return
        producer = self._producer
        if producer is None:
            raise PublishError("the producer is not connected")
        try:
            deliveries = [
                await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
                for r in records
            ]
            await asyncio.gather(*deliveries)
        except Exception as exc:  # whatever the client raised, nothing may be committed
            raise PublishError(f"Kafka refused a record: {type(exc).__name__}: {exc}") from exc
