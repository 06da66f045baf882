"""A compacted, tenant-keyed topic materialised in memory: the base of auth's stores.

Every replica reads the whole topic at start (no consumer group: each needs every
tenant), is ready once it reached the end offsets it saw then, and keeps following it so
writes of other replicas arrive within moments. A write goes to Kafka first and is applied
locally once acknowledged; each tenant remembers the offset of the value it holds, so a
record read later from the topic never overwrites a newer local write. A tombstone
removes the tenant's value.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import BaseModel, ValidationError

from auth_service.adapters.kafka import KafkaWriter
from chat_contracts.keys import tenant_key
from chat_runtime.logging import get_logger

log = get_logger(__name__)


M = TypeVar("M", bound=BaseModel)


class CompactedTenantTable(Generic[M]):
    """Values of type `model`, one per tenant, from the compacted `topic`.

    `label` names the table in log lines ("refresh-token record", "tenant settings"); a
    value is never quoted in a log line, since it may be a sealed secret.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        writer: KafkaWriter,
        *,
        model: type[M],
        label: str,
        client_id: str,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._options = dict(kafka_options or {})  # connection security
        self._topic = topic
        self._writer = writer
        self._model = model
        self._label = label
        self._client_id = client_id
        self._values: dict[str, M] = {}
        self._versions: dict[str, tuple[int, int]] = {}  # tenant -> (partition, offset)
        self._consumer: AIOKafkaConsumer | None = None
        self._follower: asyncio.Task[None] | None = None
        self.loaded = False
        self.skipped = 0

    def get(self, tenant_id: str) -> M | None:
        return self._values.get(tenant_id)

    async def is_loaded(self) -> bool:
        """Readiness: the topic was read up to where it ended at start."""
        return self.loaded

    async def _write(self, tenant_id: str, value: M | None) -> None:
        raw = None if value is None else value.model_dump_json().encode()
        meta = await self._writer.write(self._topic, tenant_key(tenant_id), raw)
        self._apply(tenant_id, value, meta.partition, meta.offset)

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Read the topic to its end, then follow it in the background."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=self._client_id,
            **self._options,
        )
        await consumer.start()
        self._consumer = consumer
        async with asyncio.timeout(timeout):
            tps = [TopicPartition(self._topic, p) for p in await self._partitions()]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                await self._poll(consumer)
        self.loaded = True
        log.info(
            "compacted topic loaded",
            topic=self._topic,
            tenants=len(self._values),
            skipped=self.skipped,
        )
        self._follower = asyncio.create_task(self._follow(consumer), name=self._client_id)

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._consumer is not None:
            await self._consumer.stop()

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, **self._options)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        partitions = sorted(p["partition"] for p in described["partitions"])
        if not partitions:
            raise RuntimeError(f"topic {self._topic} does not exist (run chat-topics)")
        return partitions

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        # Never dies quietly: a table that stopped following would serve stale tenants.
        while True:
            try:
                await self._poll(consumer)
            except Exception as exc:  # noqa: BLE001 - logged, then retried
                log.warning(
                    "reading a compacted topic failed", topic=self._topic, error=type(exc).__name__
                )
                await asyncio.sleep(1.0)

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=500, max_records=1000)
        for records in batches.values():
            for message in records:
                self._consume(message)

    def _consume(self, message: ConsumerRecord[bytes, bytes]) -> None:
        key = (message.key or b"").decode("utf-8", "replace")
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
        else:
            self._values[tenant_id] = value
        if before != value:
            self._changed(tenant_id, value)

    def _changed(self, tenant_id: str, value: M | None) -> None:
        """Hook: a tenant's value changed (from the topic or a local write)."""
