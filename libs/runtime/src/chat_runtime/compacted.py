"""A compacted, tenant-keyed topic materialised in memory: every state table of the suite.

auth's refresh-token store and tenant-settings store, and the settings readers of
crm-sync and ingest, are this table. Every replica reads the whole topic at start (no
consumer group: each needs every tenant), is ready once it reached the end offsets it saw
then, and keeps following it, so writes of other replicas arrive within moments. A write
(tables given a `writer`) goes to Kafka first and is applied locally once acknowledged;
each tenant remembers the offset of the value it holds, so a record read later from the
topic never overwrites a newer local write. `caught_up()` is read-your-writes across
replicas: it returns once the table has applied everything the topic held when it was
called, so a value another replica wrote (and Kafka acknowledged) before it is seen.
A tombstone removes the tenant's value
(`removed()` then says so). A record that does not validate, or whose value names another
tenant than its key, is skipped and counted, the last good value kept; a value is never
quoted in a log line, since it may be a sealed secret.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import RecordMetadata
from pydantic import BaseModel, ValidationError

from chat_contracts.keys import tenant_key
from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)
_POLL_MS = 500


class TableWriter(Protocol):
    """Writes one record (None: a tombstone) and returns once Kafka acknowledged it."""

    async def write(self, topic: str, key: bytes | None, value: bytes | None) -> RecordMetadata: ...


class CompactedTable(Generic[M]):
    """Values of type `model`, one per tenant, from the compacted `topic`.

    `label` names the table in log lines. `required`: a topic that does not exist stops
    `start()` (a store that must not run empty); otherwise the table waits `topic_wait_s`
    for a topic created moments ago, then runs empty (every tenant gets defaults).
    """

    def __init__(
        self,
        kit: KafkaKit,
        topic: str,
        *,
        model: type[M],
        label: str,
        role: str,
        writer: TableWriter | None = None,
        required: bool = True,
        topic_wait_s: float = 5.0,
    ) -> None:
        self._kit = kit
        self._topic = topic
        self._model = model
        self._label = label
        self._role = role
        self._writer = writer
        self._required = required
        self._topic_wait_s = topic_wait_s
        self._values: dict[str, M] = {}
        self._removed: set[str] = set()
        self._versions: dict[str, tuple[int, int]] = {}  # tenant -> (partition, offset)
        self._applied: dict[int, int] = {}  # partition -> next offset to apply
        self._advanced = asyncio.Event()
        self._tps: list[TopicPartition] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._follower: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()
        self.skipped = 0

    def get(self, tenant_id: str) -> M | None:
        """The tenant's value; None when it has none."""
        return self._values.get(tenant_id)

    def values(self) -> Iterable[M]:
        """Every tenant's value, a copy."""
        return list(self._values.values())

    def removed(self, tenant_id: str) -> bool:
        """Whether the tenant's value was deleted (a tombstone, and nothing since)."""
        return tenant_id in self._removed

    async def is_loaded(self) -> bool:
        """Readiness: the topic was read up to where it ended at start."""
        return self.loaded.is_set()

    async def write(self, tenant_id: str, value: M | None) -> None:
        """Write the tenant's value (None: its tombstone), then hold it."""
        if self._writer is None:
            raise RuntimeError(f"the {self._label} table is read-only")
        raw = None if value is None else value.model_dump_json().encode()
        meta = await self._writer.write(self._topic, tenant_key(tenant_id), raw)
        self._apply(tenant_id, value, meta.partition, meta.offset)

    async def caught_up(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the table has applied every record the topic held now (its end
        offsets, asked of the brokers); TimeoutError after `timeout` s."""
        consumer = self._consumer
        if consumer is None or not self._tps:
            return
        async with asyncio.timeout(timeout):
            ends = await consumer.end_offsets(self._tps)
            while any(self._applied.get(tp.partition, 0) < end for tp, end in ends.items()):
                self._advanced.clear()
                await self._advanced.wait()

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Read the topic to its end, then follow it in the background."""
        consumer = self._kit.consumer(self._role)
        await consumer.start()
        self._consumer = consumer
        async with asyncio.timeout(timeout):
            tps = [TopicPartition(self._topic, p) for p in await self._partitions()]
            self._tps = tps
            if tps:
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
                ends = await consumer.end_offsets(tps)
                while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                    await self._poll(consumer)
                for tp in tps:  # the end may be past the last record kept (compaction)
                    position = await consumer.position(tp)
                    self._applied[tp.partition] = max(self._applied.get(tp.partition, 0), position)
        self.loaded.set()
        log.info(
            "compacted topic loaded",
            topic=self._topic,
            tenants=len(self._values),
            skipped=self.skipped,
        )
        if tps:
            self._follower = asyncio.create_task(self._follow(consumer), name=self._role)

    async def stop(self) -> None:
        """Stop following and disconnect."""
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def _partitions(self) -> list[int]:
        # From the cluster, polled: a topic created moments ago is not in every answer.
        tries = max(1, int(self._topic_wait_s / 0.25))
        async with self._kit.admin_session(f"{self._role}-admin") as admin:
            for attempt in range(tries):
                described = await admin.describe_topics([self._topic])
                found = sorted(
                    p["partition"]
                    for t in described
                    if t["topic"] == self._topic
                    for p in t["partitions"]
                )
                if found or self._required:
                    break
                if attempt + 1 < tries:
                    await asyncio.sleep(0.25)
        if not found and self._required:
            raise RuntimeError(f"topic {self._topic} does not exist (run chat-topics)")
        if not found:
            log.warning("topic has no partitions; every tenant gets defaults", topic=self._topic)
        return found

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        # Never dies quietly: a table that stopped following would serve stale tenants.
        while True:
            try:
                await self._poll(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged, then retried
                log.warning(
                    "reading a compacted topic failed", topic=self._topic, error=type(exc).__name__
                )
                await asyncio.sleep(1.0)

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=1000)
        for records in batches.values():
            for message in records:
                self._consume(message)

    def _consume(self, message: ConsumerRecord[Any, Any]) -> None:
        try:
            self._consume_one(message)
        finally:
            applied = self._applied.get(message.partition, 0)
            self._applied[message.partition] = max(applied, message.offset + 1)
            self._advanced.set()

    def _consume_one(self, message: ConsumerRecord[Any, Any]) -> None:
        # Leniently: a key that is not UTF-8 must not stop the reader.
        key = (message.key or b"").decode("utf-8", "replace")
        if not key:
            return
        if message.value is None:
            self._apply(key, None, message.partition, message.offset)
            return
        try:
            value: M | None = self._model.model_validate_json(message.value)
        except ValidationError:
            value = None
        if value is None or getattr(value, "tenant_id", None) != key:
            self.skipped += 1
            log.error(
                f"unreadable {self._label} skipped",
                topic=self._topic,
                partition=message.partition,
                offset=message.offset,
            )
            return
        self._apply(key, value, message.partition, message.offset)

    def _apply(self, tenant_id: str, value: M | None, partition: int, offset: int) -> None:
        held = self._versions.get(tenant_id)
        if held is not None and held[0] == partition and held[1] >= offset:
            return  # already hold this value or a newer one
        self._versions[tenant_id] = (partition, offset)
        before = self._values.get(tenant_id)
        if value is None:
            self._values.pop(tenant_id, None)
            self._removed.add(tenant_id)
        else:
            self._values[tenant_id] = value
            self._removed.discard(tenant_id)
        if before != value:
            self._changed(tenant_id, value)

    def _changed(self, tenant_id: str, value: M | None) -> None:
        """Hook: a tenant's value changed (from the topic or a local write)."""
