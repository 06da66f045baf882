"""The one Kafka producer auth writes with (sealed tokens, settings and connection events),
built by the runtime's kit at start (aiokafka binds to the running loop)."""

from __future__ import annotations

from aiokafka.structs import RecordMetadata

from chat_runtime.kafka import KafkaKit, ManagedProducer

_HEADERS = [("content-type", b"application/json")]


class KafkaWriter(ManagedProducer):
    def __init__(self, kit: KafkaKit) -> None:
        # Idempotent, acks=all: a write returns once every in-sync replica has it.
        super().__init__(kit, "producer")

    async def write(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> RecordMetadata:
        """Write one JSON record (or a tombstone) and wait for the broker's ack."""
        metadata: RecordMetadata = await self.producer.send_and_wait(
            topic, value, key=key, headers=[*_HEADERS, *(headers or ())]
        )
        return metadata
