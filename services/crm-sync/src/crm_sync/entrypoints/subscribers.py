"""The Kafka subscribers: thin, each hands raw records to one use case.

Conversations arrive in batches (FastStream's `getmany`), untouched: the
use case decodes each record once and dead-letters what does not validate, so a bad record
can never fail a whole batch in a loop. A batch is committed only after the use case has
published every result (explicit `ack` inside the in-flight guard); a failure rewinds it.
A small poll may wait for more records up to its tenants' linger (`batch_linger_ms` from
each record's produce time), so chats arriving close together share a batch.

`InFlight` is the consumer's rebalance listener: when partitions are taken away it waits
for the batch in hand to be written and committed, so two members never write the same
visitor at once (the next owner starts from the committed offset).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, cast

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage

from chat_runtime.app import subscriber
from chat_runtime.logging import get_logger
from crm_sync.adapters.consumer import InFlight, in_records, rewind, top_up
from crm_sync.config import Settings
from crm_sync.domain.inbound import InRecord

log = get_logger(__name__)
# After Kafka refused a batch's output, wait before the batch comes again, so an outage is
# not a busy loop.
RETRY_PAUSE_S: Final = 1.0

BatchHandler = Callable[[Sequence[InRecord]], Awaitable[None]]
Linger = Callable[[Sequence[InRecord]], float]
"""Until when (epoch seconds) a poll may wait for more records."""


def _batches(
    broker: KafkaBroker,
    topic: str,
    group_id: str,
    max_records: int,
    timeout_ms: int,
    handle: BatchHandler,
    linger: Linger | None = None,
) -> None:
    guard = InFlight()
    sub = cast(
        "BatchSubscriber",
        subscriber(
            broker,
            topic,
            group_id=group_id,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=timeout_ms,
            listener=guard,
        ),
    )

    async def parse(records: tuple[ConsumerRecord[Any, Any], ...]) -> StreamMessage[Any]:
        first, last = records[0], records[-1]
        return KafkaAckableMessage(
            raw_message=records,
            body=b"",
            message_id=f"{first.offset}-{last.offset}-{first.timestamp}",
            consumer=sub.consumer,
        )

    async def decode(message: StreamMessage[Any]) -> None:
        return None

    @sub(parser=parse, decoder=decode)
    async def handle_batch(message: KafkaMessage) -> None:
        async with guard.batch():
            records = list(message.raw_message)
            try:
                if linger is not None and sub.consumer is not None:
                    await top_up(sub.consumer, records, linger(in_records(records)), max_records)
                await handle(in_records(records))
            except Exception:
                if sub.consumer is not None:
                    rewind(sub.consumer, records)  # the whole batch comes again, deduplicated
                await asyncio.sleep(RETRY_PAUSE_S)
                raise
            await message.ack()


def register(
    broker: KafkaBroker,
    settings: Settings,
    *,
    sync: BatchHandler,
    linger: Linger | None = None,
) -> None:
    """Subscribe the conversations use case (parked chats are read by `parked`, manual
    create commands answered by the runtime's responder, see `app`)."""
    _batches(
        broker,
        settings.conversations_topic,
        settings.group_id,
        settings.poll_max_records,
        settings.poll_timeout_ms,
        sync,
        linger,
    )
