"""Reads back the keys of recent `chat.raw.v1` records: how the dedupe memory of a
partition is rebuilt when this process takes the partition over."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from chat_runtime.kafka import KafkaKit
from ingest_service.adapters.ports import PartitionKey

_POLL_MS = 500
# A rebuild is best effort: past this, the memory keeps what was read (crm-sync's own
# dedupe by chat id is the backstop) rather than holding the partition's consumption.
REBUILD_LIMIT_S = 60.0


class KafkaRecentKeys:
    """`RecentKeys` over a group-less aiokafka consumer, created on first use."""

    def __init__(self, kit: KafkaKit) -> None:
        self._kit = kit
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def stop(self) -> None:
        """Disconnect, if connected."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def read(
        self, until: Mapping[PartitionKey, int], since_ms: int, max_records: int
    ) -> dict[PartitionKey, list[tuple[bytes, int]]]:
        """See `RecentKeys.read`."""
        found: dict[PartitionKey, list[tuple[bytes, int]]] = {p: [] for p in until}
        async with self._lock:
            consumer = await self._connected()
            tps = {TopicPartition(t, p): offset for (t, p), offset in until.items()}
            consumer.assign(list(tps))
            by_time = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
            remaining: dict[TopicPartition, int] = {}
            for tp, end in tps.items():
                stamp = by_time.get(tp)
                start = max(end if stamp is None else stamp.offset, end - max_records, 0)
                if start < end:
                    consumer.seek(tp, start)
                    remaining[tp] = end
            try:
                async with asyncio.timeout(REBUILD_LIMIT_S):
                    await _read_until(consumer, remaining, found)
            except TimeoutError:
                pass
        return found

    async def _connected(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = self._kit.consumer("dedupe")
            await consumer.start()
            self._consumer = consumer
        return self._consumer


async def _read_until(
    consumer: AIOKafkaConsumer,
    remaining: dict[TopicPartition, int],
    found: dict[PartitionKey, list[tuple[bytes, int]]],
) -> None:
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=_POLL_MS)
        for tp, records in batches.items():
            end = remaining[tp]
            found[(tp.topic, tp.partition)].extend(
                (r.key, r.timestamp) for r in records if r.offset < end and r.key
            )
        for tp in list(remaining):
            if await consumer.position(tp) >= remaining[tp]:
                del remaining[tp]
