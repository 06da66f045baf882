"""The retry topic's consumer: reads parked chats into `ForwardDueRetries`' hold, lets it
publish what is due, and commits only below what is still held.

A plain aiokafka consumer rather than a FastStream subscriber: a parked chat stays in
memory, unacknowledged, across many polls, and FastStream's `ack()` commits everything read
so far. While the hold is full the consumer pauses its partitions (it keeps polling, so it
stays in the group) until some of what it holds is due.
"""

from __future__ import annotations

import asyncio
import contextlib
from itertools import chain
from typing import Final

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from crm_sync.adapters.consumer import in_records
from crm_sync.domain.parked import Partition
from crm_sync.handlers.sync import ForwardDueRetries

log = get_logger(__name__)
# After a failed step (Kafka refused the forwards), wait before the next.
RETRY_PAUSE_S: Final = 1.0
POLL_RECORDS: Final = 500


class ParkedConsumer:
    """`start()` joins the retry topic's group and reads; `stop()` commits and leaves."""

    def __init__(
        self,
        kit: KafkaKit,
        topic: str,
        group_id: str,
        forward: ForwardDueRetries,
        *,
        poll_timeout_ms: int = 1000,
    ) -> None:
        self.kit, self.topic, self.group_id = kit, topic, group_id
        self.forward = forward
        self.poll_timeout_ms = poll_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._committed: dict[Partition, int] = {}

    async def ready(self) -> bool:
        """The read loop is alive (readiness)."""
        return self._reader is not None and not self._reader.done()

    async def start(self) -> None:
        consumer = self.kit.consumer("retry", group_id=self.group_id)
        consumer.subscribe([self.topic], listener=_Listener(self))
        await consumer.start()
        self._consumer = consumer
        self._reader = asyncio.create_task(self._read(consumer), name=f"parked:{self.topic}")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self.commit(self._consumer)
            await self._consumer.stop()
            self._consumer = None

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                await self._step(consumer)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retry consumer step failed; held chats stay held")
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _step(self, consumer: AIOKafkaConsumer) -> None:
        assigned = consumer.assignment()
        if self.forward.hold.full:
            consumer.pause(*assigned)
        elif consumer.paused():
            consumer.resume(*consumer.paused())
        wait = self.forward.wait_s()
        timeout_ms = self.poll_timeout_ms if wait is None else int(wait * 1000)
        batches = await consumer.getmany(
            timeout_ms=min(self.poll_timeout_ms, timeout_ms), max_records=POLL_RECORDS
        )
        self.forward.add(in_records(list(chain.from_iterable(batches.values()))))
        await self.forward.forward_due()
        await self.commit(consumer)

    async def commit(self, consumer: AIOKafkaConsumer, only: set[Partition] | None = None) -> None:
        """Commit, per assigned partition, up to the oldest record still held."""
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        offsets = {
            TopicPartition(*partition): OffsetAndMetadata(offset, "")
            for partition, offset in self.forward.hold.commit_offsets().items()
            if partition in assigned
            and (only is None or partition in only)
            and self._committed.get(partition) != offset
        }
        if offsets:
            await consumer.commit(offsets)
            self._committed.update(
                {(tp.topic, tp.partition): o.offset for tp, o in offsets.items()}
            )

    async def revoked(self, partitions: set[Partition]) -> None:
        """Partitions taken away: commit what is safe, forget what is held of them."""
        if self._consumer is not None:
            try:
                await self.commit(self._consumer, partitions)
            except Exception:
                log.warning("could not commit the retry topic before a rebalance", exc_info=True)
        self.forward.hold.drop(partitions)
        for partition in partitions:
            self._committed.pop(partition, None)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: ParkedConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.owner.revoked({(tp.topic, tp.partition) for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None
