"""Helpers of the batch consumers: aiokafka records as plain values, topping a poll up for
its linger, rewinding a batch, and holding a rebalance while a batch is in hand."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from itertools import chain
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition

from chat_runtime.logging import get_logger
from crm_sync.domain.inbound import InRecord

log = get_logger(__name__)
# A rebalance waits at most this long for the batch in hand (below max.poll.interval.ms).
REVOKE_WAIT_S: Final = 240.0
# A poll waits for more records at most this long, whatever a tenant's settings say.
MAX_LINGER_S: Final = 5.0


class InFlight(ConsumerRebalanceListener):  # type: ignore[misc]
    """Holds a partition revocation until the batch being handled is committed."""

    def __init__(self) -> None:
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        self._idle.clear()
        try:
            yield
        finally:
            self._idle.set()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), REVOKE_WAIT_S)
        except TimeoutError:
            log.error("rebalance went ahead while a batch was still being written")

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


def in_records(records: Sequence[ConsumerRecord[Any, Any]]) -> list[InRecord]:
    """aiokafka's records as plain values."""
    return [
        InRecord(
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            key=r.key,
            value=r.value,
            headers=tuple((k, v or b"") for k, v in r.headers or ()),
            timestamp_ms=r.timestamp,
        )
        for r in records
    ]


async def top_up(
    consumer: AIOKafkaConsumer,
    records: list[ConsumerRecord[Any, Any]],
    until: float,
    max_records: int,
) -> None:
    """Take more records from the consumer until `until` (epoch s) or `max_records`."""
    until = min(until, time.time() + MAX_LINGER_S)
    while len(records) < max_records:
        wait_ms = int((until - time.time()) * 1000)
        if wait_ms <= 0:
            return
        more = await consumer.getmany(timeout_ms=wait_ms, max_records=max_records - len(records))
        records += chain.from_iterable(more.values())


def rewind(consumer: AIOKafkaConsumer, records: list[ConsumerRecord[Any, Any]]) -> None:
    """Seek every partition of the batch back to its first record: nothing of it is
    committed, so all of it comes again."""
    earliest: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        earliest[tp] = min(earliest.get(tp, record.offset), record.offset)
    for tp, offset in earliest.items():
        with contextlib.suppress(Exception):  # a partition taken away meanwhile
            consumer.seek(tp, offset)
