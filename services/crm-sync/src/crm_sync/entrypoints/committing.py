"""What crm-sync's two plain aiokafka consumers share: join a topic's group, read in a loop
(a failed step is logged and the next tried after a pause), commit per partition only what
the consumer says may be, and hand partitions over cleanly on a rebalance.

A subclass says what a step does (`step`), what may be committed (`commit_offsets`), what
to finish before partitions go (`settle`) or before the consumer stops (`finish`), and what
to forget of partitions taken away (`forget`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from crm_sync.domain.offsets import Partition

log = get_logger(__name__)
RETRY_PAUSE_S: Final = 1.0
"""After a failed step (or a lane's batch Kafka refused), wait before trying again."""


class CommittingConsumer:
    """`start()` joins the group and reads; `stop()` finishes, commits and leaves."""

    role = "consumer"

    def __init__(self, kit: KafkaKit, topic: str, group_id: str) -> None:
        self.kit, self.topic, self.group_id = kit, topic, group_id
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._committed: dict[Partition, int] = {}

    # What a subclass says.
    async def step(self, consumer: AIOKafkaConsumer) -> None:
        """One turn of the read loop."""
        raise NotImplementedError

    def commit_offsets(self) -> dict[Partition, int]:
        """Per partition, the offset that may be committed."""
        raise NotImplementedError

    async def settle(self, partitions: set[Partition]) -> None:
        """Before partitions taken away are committed: finish what runs for them."""

    def forget(self, partitions: set[Partition]) -> None:
        """After they are committed: drop what is held of them."""

    async def finish(self) -> None:
        """Before the last commit of `stop()`."""

    # The loop.
    async def ready(self) -> bool:
        """The read loop is alive (readiness)."""
        return self._reader is not None and not self._reader.done()

    async def start(self) -> None:
        consumer = self.kit.consumer(self.role, group_id=self.group_id)
        consumer.subscribe([self.topic], listener=_Listener(self))
        await consumer.start()
        self._consumer = consumer
        self._reader = asyncio.create_task(self._read(consumer), name=f"{self.role}:{self.topic}")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self.finish()
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self.commit(self._consumer)
            await self._consumer.stop()
            self._consumer = None

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                await self.step(consumer)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer step failed", topic=self.topic)
                await asyncio.sleep(RETRY_PAUSE_S)

    async def commit(self, consumer: AIOKafkaConsumer, only: set[Partition] | None = None) -> None:
        """Commit, per assigned partition (of `only`, when given), what may be."""
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        offsets = {
            TopicPartition(*partition): OffsetAndMetadata(offset, "")
            for partition, offset in self.commit_offsets().items()
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
        """Partitions taken away: finish what runs for them, commit, forget them."""
        await self.settle(partitions)
        if self._consumer is not None:
            try:
                await self.commit(self._consumer, partitions)
            except Exception:
                log.warning("could not commit before a rebalance", exc_info=True)
        self.forget(partitions)
        for partition in partitions:
            self._committed.pop(partition, None)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: CommittingConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.owner.revoked({(tp.topic, tp.partition) for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None
