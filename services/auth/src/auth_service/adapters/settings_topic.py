"""Tenant settings on the compacted `tenant.settings.v1`, keyed by tenant, materialised.

Like the refresh-token store: every replica reads the whole topic at start (no consumer
group), keeps following it, and applies its own writes once the broker acknowledged them
(acks=all, idempotent producer); a value read later never replaces a newer one of the
same partition. A tombstone removes the tenant's settings (the defaults apply again).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from auth_service.adapters.kafka import KafkaWriter
from chat_contracts.keys import tenant_key
from chat_contracts.settings import TenantSettings
from chat_runtime.logging import get_logger

log = get_logger(__name__)


class KafkaSettingsStore:
    def __init__(
        self, bootstrap_servers: str, topic: str, writer: KafkaWriter, *, client_id: str = "auth"
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._writer = writer
        self._client_id = client_id
        self._settings: dict[str, TenantSettings] = {}
        self._versions: dict[str, tuple[int, int]] = {}  # tenant -> (partition, offset)
        self._consumer: AIOKafkaConsumer | None = None
        self._follower: asyncio.Task[None] | None = None
        self.loaded = False
        self.skipped = 0

    def get(self, tenant_id: str) -> TenantSettings | None:
        return self._settings.get(tenant_id)

    async def put(self, settings: TenantSettings) -> None:
        tenant = settings.tenant_id
        meta = await self._writer.write(
            self._topic, tenant_key(tenant), settings.model_dump_json().encode()
        )
        self._apply(tenant, settings, meta.partition, meta.offset)

    async def is_loaded(self) -> bool:
        """Readiness: the topic was read up to where it ended at start."""
        return self.loaded

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"{self._client_id}-settings-store",
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
        log.info("tenant settings loaded", tenants=len(self._settings), skipped=self.skipped)
        self._follower = asyncio.create_task(self._follow(consumer), name="settings-store")

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._consumer is not None:
            await self._consumer.stop()

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

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                await self._poll(consumer)
            except Exception as exc:  # noqa: BLE001 - logged, then retried
                log.warning("reading the settings topic failed", error=type(exc).__name__)
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
            settings: TenantSettings | None = TenantSettings.model_validate_json(message.value)
        except ValidationError:
            settings = None
        if settings is None or settings.tenant_id != key:
            self.skipped += 1
            log.error(
                "unreadable tenant settings skipped",
                partition=message.partition,
                offset=message.offset,
            )
            return
        self._apply(key, settings, message.partition, message.offset)

    def _apply(
        self, tenant_id: str, settings: TenantSettings | None, partition: int, offset: int
    ) -> None:
        held = self._versions.get(tenant_id)
        if held is not None and held[0] == partition and held[1] >= offset:
            return
        self._versions[tenant_id] = (partition, offset)
        if settings is None:
            self._settings.pop(tenant_id, None)
        else:
            self._settings[tenant_id] = settings
