"""The refresh-token store: the compacted topic `auth.refresh-tokens.v1`, materialised.

Every replica reads the whole topic at start (no consumer group: each needs every
tenant), is ready once it reached the end offsets it saw then, and keeps following it so
writes of other replicas arrive within moments. A write goes to Kafka first and is
applied locally once acknowledged; each tenant remembers the offset of the value it
holds, so a record read later from the topic never overwrites a newer local write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from auth_service.adapters.kafka import KafkaWriter
from auth_service.adapters.ports import RecordListener
from chat_contracts.auth import RefreshTokenRecord
from chat_contracts.keys import tenant_key
from chat_runtime.logging import get_logger

log = get_logger(__name__)


class KafkaTokenStore:
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        writer: KafkaWriter,
        *,
        client_id: str = "auth",
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._writer = writer
        self._client_id = client_id
        self._records: dict[str, RefreshTokenRecord] = {}
        self._versions: dict[str, tuple[int, int]] = {}  # tenant -> (partition, offset)
        self._listeners: list[RecordListener] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._follower: asyncio.Task[None] | None = None
        self.loaded = False
        self.skipped = 0

    def get(self, tenant_id: str) -> RefreshTokenRecord | None:
        return self._records.get(tenant_id)

    def records(self) -> Iterable[RefreshTokenRecord]:
        return list(self._records.values())

    def listen(self, listener: RecordListener) -> None:
        self._listeners.append(listener)

    async def put(self, record: RefreshTokenRecord) -> None:
        await self._write(record.tenant_id, record.model_dump_json().encode(), record)

    async def delete(self, tenant_id: str) -> None:
        """Write the tenant's tombstone; compaction removes the token for good later."""
        await self._write(tenant_id, None, None)

    async def _write(
        self, tenant_id: str, value: bytes | None, record: RefreshTokenRecord | None
    ) -> None:
        meta = await self._writer.write(self._topic, tenant_key(tenant_id), value)
        self._apply(tenant_id, record, meta.partition, meta.offset)

    async def is_loaded(self) -> bool:
        """Readiness: the topic was read up to where it ended at start."""
        return self.loaded

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Read the topic to its end, then follow it in the background."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"{self._client_id}-token-store",
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
        log.info("refresh-token store loaded", tenants=len(self._records), skipped=self.skipped)
        self._follower = asyncio.create_task(self._follow(consumer), name="token-store")

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        partitions = sorted(p["partition"] for p in described["partitions"])
        if not partitions:
            raise RuntimeError(f"topic {self._topic} does not exist (run chat-topics)")
        return partitions

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        # Never dies quietly: a store that stopped following would serve stale tenants.
        while True:
            try:
                await self._poll(consumer)
            except Exception as exc:  # noqa: BLE001 - logged, then retried
                log.warning("reading the refresh-token topic failed", error=type(exc).__name__)
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
            record = RefreshTokenRecord.model_validate_json(message.value)
        except ValidationError:
            record = None
        if record is None or record.tenant_id != key:
            # Never quote the value: it is a sealed token, and may be garbage around one.
            self.skipped += 1
            log.error(
                "unreadable refresh-token record skipped",
                partition=message.partition,
                offset=message.offset,
            )
            return
        self._apply(key, record, message.partition, message.offset)

    def _apply(
        self, tenant_id: str, record: RefreshTokenRecord | None, partition: int, offset: int
    ) -> None:
        held = self._versions.get(tenant_id)
        if held is not None and held[0] == partition and held[1] >= offset:
            return  # already hold this value or a newer one
        self._versions[tenant_id] = (partition, offset)
        before = self._records.get(tenant_id)
        if record is None:
            self._records.pop(tenant_id, None)
        else:
            self._records[tenant_id] = record
        if before != record:
            for listener in self._listeners:
                listener(tenant_id, record)
