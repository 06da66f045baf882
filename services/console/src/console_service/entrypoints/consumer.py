"""The history's consumer: every record of the console's five topics, into the database.

A plain aiokafka consumer in the group `console`: the group shares the partitions among
replicas, and the database says where to read from. On assignment each partition is
sought to the offset stored with the rows (`consumer_offsets`), or to the oldest record
kept when the database has none: a new or emptied database rebuilds the whole history
from the topics' retention, and a record read twice changes nothing. Offsets are also
committed to Kafka after each transaction, for lag to be watched as for every group.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from console_service.adapters.store import Store
from console_service.domain.history import Position
from console_service.handlers.history import KeepHistory, Record

log = get_logger(__name__)


class _SeekFromDatabase(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, reader: HistoryConsumer) -> None:
        self.reader = reader

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.reader.seek(assigned)


class HistoryConsumer:
    """`start()` joins the group and stores what it reads until `stop()`."""

    def __init__(
        self,
        kit: KafkaKit,
        topics: Mapping[str, str],
        group_id: str,
        store: Store,
        keep: KeepHistory,
        *,
        max_records: int = 2000,
        poll_timeout_ms: int = 500,
    ) -> None:
        self.kit, self.group_id, self.store, self.keep = kit, group_id, store, keep
        self.kind_of = {topic: kind for kind, topic in topics.items()}
        self.max_records, self.poll_timeout_ms = max_records, poll_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._caught_up = False
        self.stored = 0

    @property
    def topics(self) -> list[str]:
        return sorted(self.kind_of)

    async def ready(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        consumer = self.kit.consumer("history", group_id=self.group_id)
        consumer.subscribe(self.topics, listener=_SeekFromDatabase(self))
        self._consumer = consumer  # before start: the first assignment may come during it
        await consumer.start()
        self._task = asyncio.create_task(self._run(consumer), name="console-history")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
        self._task = self._consumer = None

    async def seek(self, assigned: list[TopicPartition]) -> None:
        consumer = self._consumer
        if consumer is None or not assigned:
            return
        stored = await asyncio.to_thread(self.store.offsets, {tp.topic for tp in assigned})
        fresh = []
        for tp in assigned:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
            else:
                fresh.append(tp)
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        log.info("history partitions assigned", partitions=len(assigned), rebuilding=len(fresh))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                await self._step(consumer)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away, a broker hiccup: log, wait, go on
                log.exception("history batch failed; retrying from the stored offsets")
                await asyncio.sleep(1.0)
                with contextlib.suppress(Exception):
                    await self.seek(list(consumer.assignment()))

    async def _step(self, consumer: AIOKafkaConsumer) -> None:
        batches: dict[TopicPartition, list[Any]] = await consumer.getmany(
            timeout_ms=self.poll_timeout_ms, max_records=self.max_records
        )
        records = [
            Record(
                self.kind_of[tp.topic],
                Position(tp.topic, tp.partition, msg.offset, msg.timestamp),
                msg.value,
            )
            for tp, messages in batches.items()
            for msg in messages
        ]
        if not records:
            return
        await self.keep(records)
        self.stored += len(records)
        offsets = {
            tp: OffsetAndMetadata(messages[-1].offset + 1, "")
            for tp, messages in batches.items()
            if messages
        }
        with contextlib.suppress(Exception):  # the database holds the truth
            await consumer.commit(offsets)
