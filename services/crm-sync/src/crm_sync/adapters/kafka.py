"""The producer crm-sync writes results, retries, dead letters and forwarded chats with:
acks=all, idempotent, records queued in order and confirmed together."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from chat_contracts.topics import ENVELOPE_BYTES, LARGE_MESSAGE_BYTES
from chat_runtime.kafka import KafkaKit, ManagedProducer
from crm_sync.adapters.ports import OutRecord, PublishError

MAX_BATCH_BYTES: Final = 512 * 1024


class KafkaPublisher(ManagedProducer):
    """`Publisher` over one producer for the process (the runtime's kit builds it)."""

    def __init__(self, kit: KafkaKit, *, linger_ms: int = 5) -> None:
        super().__init__(
            kit,
            "producer",
            linger_ms=linger_ms,
            max_batch_size=MAX_BATCH_BYTES,
            max_request_size=LARGE_MESSAGE_BYTES + ENVELOPE_BYTES,  # a parked chat
        )

    async def publish_many(self, records: Sequence[OutRecord]) -> None:
        """Queue every record in order, then wait for all confirmations."""
        if not records:
            return
        if not self.started:
            raise PublishError("the producer is not connected")
        producer = self.producer
        try:
            deliveries = [
                await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers))
                for r in records
            ]
            await asyncio.gather(*deliveries)
        except Exception as exc:  # whatever the client raised, nothing may be committed
            raise PublishError(f"Kafka refused a record: {type(exc).__name__}: {exc}") from exc
