"""Consumer lag, exported by the service that consumes: per consumer group, topic and
partition, the records not yet committed (the partition's end offset less the group's
committed offset; a group with nothing committed yet counts from the oldest record kept).

Every service gets it from `chat_runtime.app.make_service_app`: the groups are its broker's
subscribers and the consumers it declared (`declare_consumer`), read every
`interval_s`. Kafka's own exporter gives the same figure cluster-wide; this one is there
without it, next to each service's other metrics, for its dashboards and on-call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry, Gauge

from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from chat_runtime.metrics import NAMESPACE

log = get_logger(__name__)
INTERVAL_S: Final = 15.0


class LagReporter:
    """Reads its groups' committed offsets and the partitions' ends, sets the gauge."""

    def __init__(
        self,
        kit: KafkaKit,
        groups: Mapping[str, Sequence[str]],
        registry: CollectorRegistry,
        *,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.kit, self.interval_s = kit, interval_s
        self.groups: Mapping[str, Sequence[str]] = dict(groups)
        self.gauge = Gauge(
            "consumer_lag",
            "Records of a partition its consumer group has not committed yet.",
            ["group", "topic", "partition"],
            namespace=NAMESPACE,
            registry=registry,
        )
        self._task: asyncio.Task[None] | None = None
        self._reader: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        if not self.groups:
            return
        self._reader = self.kit.consumer("lag")
        await self._reader.start()
        self._task = asyncio.create_task(self._loop(), name="consumer-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.collect()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not read consumer lag", exc_info=True)
            await asyncio.sleep(self.interval_s)

    async def collect(self) -> dict[tuple[str, str, int], int]:
        """Read every group's lag once and set the gauge; returns what it set."""
        assert self._reader is not None, "start() first"
        reader = self._reader
        found: dict[tuple[str, str, int], int] = {}
        async with self.kit.admin_session("lag") as admin:
            wanted = sorted({t for topics in self.groups.values() for t in topics})
            described = await admin.describe_topics(wanted)
            counts = {
                str(d["topic"]): len(d.get("partitions") or ())
                for d in described
                if not d.get("error_code")
            }
            for group, topics in self.groups.items():
                partitions = [
                    TopicPartition(topic, p)
                    for topic in topics
                    for p in range(counts.get(topic, 0))
                ]
                if not partitions:
                    continue
                committed = await admin.list_consumer_group_offsets(group)
                ends = await reader.end_offsets(partitions)
                begins = await reader.beginning_offsets(partitions)
                for tp in partitions:
                    at = committed.get(tp)
                    start = at.offset if at is not None and at.offset >= 0 else begins[tp]
                    lag = max(0, ends[tp] - start)
                    found[(group, tp.topic, tp.partition)] = lag
                    self.gauge.labels(group, tp.topic, str(tp.partition)).set(lag)
        return found
