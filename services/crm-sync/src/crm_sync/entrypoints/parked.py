"""The retry topic's consumer: reads parked chats into `ForwardDueRetries`' hold, lets it
publish what is due, and commits only below what is still held.

A plain aiokafka consumer rather than a FastStream subscriber: a parked chat stays in
memory, unacknowledged, across many polls, and FastStream's `ack()` commits everything read
so far. While the hold is full the consumer pauses its partitions (it keeps polling, so it
stays in the group) until some of what it holds is due.
"""

from __future__ import annotations

from itertools import chain
from typing import Final

from aiokafka import AIOKafkaConsumer

from chat_runtime.kafka import KafkaKit
from crm_sync.adapters.consumer import in_records
from crm_sync.domain.offsets import Partition
from crm_sync.entrypoints.committing import CommittingConsumer
from crm_sync.handlers.sync import ForwardDueRetries

POLL_RECORDS: Final = 500


class ParkedConsumer(CommittingConsumer):
    """`start()` joins the retry topic's group and reads; `stop()` commits and leaves."""

    role = "retry"

    def __init__(
        self,
        kit: KafkaKit,
        topic: str,
        group_id: str,
        forward: ForwardDueRetries,
        *,
        poll_timeout_ms: int = 1000,
    ) -> None:
        super().__init__(kit, topic, group_id)
        self.forward = forward
        self.poll_timeout_ms = poll_timeout_ms

    async def step(self, consumer: AIOKafkaConsumer) -> None:
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

    def commit_offsets(self) -> dict[Partition, int]:
        """Up to the oldest record still held."""
        return self.forward.hold.commit_offsets()

    def forget(self, partitions: set[Partition]) -> None:
        self.forward.hold.drop(partitions)
