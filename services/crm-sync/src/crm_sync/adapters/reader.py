"""`RecordReader` over Kafka: a plain consumer per read, in no group, built by the
runtime's kit (so it has the connection security), assigned and seeked by hand.

No group: a repair commits nothing and must not take partitions from crm-sync's own
consumers. A scan stops at the end offsets taken when it began, so a backfill whose
replays land on the topic it reads never reads its own output, and always ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from chat_contracts.sync import SourcePosition
from chat_runtime.kafka import KafkaKit
from crm_sync.adapters.consumer import in_records
from crm_sync.domain.inbound import InRecord


class KafkaRecordReader:
    """Reads records back by position or by time."""

    def __init__(self, kit: KafkaKit, *, poll_ms: int = 500, max_records: int = 500) -> None:
        self._kit = kit
        self._poll_ms, self._max_records = poll_ms, max_records

    @contextlib.asynccontextmanager
    async def _consumer(self) -> AsyncIterator[AIOKafkaConsumer]:
        consumer = self._kit.consumer("repairs", max_poll_records=self._max_records)
        await consumer.start()
        try:
            yield consumer
        finally:
            await consumer.stop()

    async def _partitions(self, topic: str) -> set[int]:
        # Asked of the cluster: a consumer's own metadata knows only what it was given.
        async with self._kit.admin_session("repairs-admin") as admin:
            described = await admin.describe_topics([topic])
        return {
            p["partition"]
            for t in described
            if t["topic"] == topic and not t.get("error_code")
            for p in t["partitions"]
        }

    async def read_at(self, position: SourcePosition) -> InRecord | None:
        """The record at `position`; None when the partition does not hold it (not written
        yet, removed by retention, or a topic or partition that does not exist)."""
        async with self._consumer() as consumer:
            if position.partition not in await self._partitions(position.topic):
                return None
            tp = TopicPartition(position.topic, position.partition)
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            if position.offset >= end:
                return None
            consumer.seek(tp, position.offset)
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=self._poll_ms, max_records=1)
                for record in batch.get(tp, []):
                    return in_records([record])[0] if record.offset == position.offset else None
            return None

    async def scan(
        self, topic: str, since: datetime, until: datetime | None = None
    ) -> AsyncGenerator[InRecord, None]:
        """Each partition from its first record written at `since` on, to its end offset
        as it was when the scan began (or its first record written after `until`)."""
        async with self._consumer() as consumer:
            tps = [TopicPartition(topic, p) for p in sorted(await self._partitions(topic))]
            if not tps:
                return
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            starts = await consumer.offsets_for_times({tp: _ms(since) for tp in tps})
            active: set[TopicPartition] = set()
            for tp in tps:
                found = starts.get(tp)
                if found is not None and found.offset < ends[tp]:
                    consumer.seek(tp, found.offset)
                    active.add(tp)
            last_ms = None if until is None else _ms(until)
            while active:
                batches = await consumer.getmany(*active, timeout_ms=self._poll_ms)
                for tp, records in batches.items():
                    for record in records:
                        if record.offset >= ends[tp] or (
                            last_ms is not None and record.timestamp > last_ms
                        ):
                            active.discard(tp)
                            consumer.pause(tp)
                            break
                        yield in_records([record])[0]
                for tp in list(active):
                    if await consumer.position(tp) >= ends[tp]:
                        active.discard(tp)
                        consumer.pause(tp)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
