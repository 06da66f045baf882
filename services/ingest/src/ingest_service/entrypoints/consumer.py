"""The `chat.raw.v1` subscriber: batches of raw records to `NormaliseBatch`.

FastStream's default batch parser decodes every header value as UTF-8 (a producer's
binary header would fail the whole batch before any handler ran, and the batch would be
skipped) and its decoder parses every value as JSON (a second decode per event). This
parser hands the records over untouched; the domain decodes each value once, and bad
ones become dead letters instead of failures.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, cast

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage

from chat_runtime.app import subscriber
from ingest_service.config import Settings
from ingest_service.handlers.events import NormaliseBatch

# After a batch failed (Kafka refused its output, or the dedupe read-back failed), wait
# before it is delivered again, so an outage is not a busy loop of retries and errors.
RETRY_PAUSE_S: Final = 1.0


def register_normaliser(broker: KafkaBroker, settings: Settings, handle: NormaliseBatch) -> None:
    """Subscribe `handle` to the raw topic: batches, at-least-once, one consumer group."""
    sub = cast(
        "BatchSubscriber",
        subscriber(
            broker,
            settings.raw_topic,
            group_id=settings.group_id,
            batch=True,
            max_records=settings.batch_max_records,
            batch_timeout_ms=settings.batch_timeout_ms,
        ),
    )

    async def parse(records: tuple[ConsumerRecord, ...]) -> StreamMessage[Any]:
        first, last = records[0], records[-1]
        return KafkaAckableMessage(
            raw_message=records,
            body=[r.value or b"" for r in records],
            message_id=f"{first.offset}-{last.offset}-{first.timestamp}",
            consumer=sub.consumer,
        )

    async def decode(message: StreamMessage[Any]) -> None:
        return None

    @sub(parser=parse, decoder=decode)
    async def normalise_raw_events(message: KafkaMessage) -> None:
        try:
            await handle(message.raw_message)
        except Exception:
            await asyncio.sleep(RETRY_PAUSE_S)
            raise  # nothing committed: the batch comes again (the handler never fails on input)
