"""Each tenant's default phone region, from the compacted `tenant.settings.v1`.

Read whole at start (readiness waits for it), then followed, so a region changed in the
settings applies to the next chats without a restart. A tenant without settings gets the
configured default.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from chat_contracts.keys import tenant_of_key
from chat_contracts.registry import value_adapter
from chat_contracts.settings import TenantSettings
from chat_contracts.topics import TENANT_SETTINGS

log = logging.getLogger(__name__)
_POLL_MS = 1000


class TenantSettingsRegions:
    """`PhoneRegions` backed by the settings topic."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic: str,
        default_region: str,
        client_id: str,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._bootstrap = [s.strip() for s in bootstrap_servers.split(",") if s.strip()]
        self._client_options = dict(client_options or {})  # connection security
        self._topic = topic
        self._default = default_region
        self._client_id = client_id
        self._regions: dict[str, str] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._follow: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    def region(self, tenant_id: str) -> str:
        """The tenant's `default_phone_region`, or the configured default."""
        return self._regions.get(tenant_id, self._default)

    async def is_loaded(self) -> bool:
        """Readiness check: the topic was read to its end once."""
        return self.loaded.is_set()

    async def start(self) -> None:
        """Read the topic to its current end, then keep following it in the background."""
        consumer = AIOKafkaConsumer(
            **self._client_options,
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-settings",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self._consumer = consumer
        tps = [TopicPartition(self._topic, p) for p in await self._partitions()]
        if tps:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while await _behind(consumer, ends):
                self._apply(await consumer.getmany(timeout_ms=_POLL_MS))
            self._follow = asyncio.create_task(self._keep_following(consumer))
        self.loaded.set()

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(**self._client_options, bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        if described.get("error_code"):
            log.warning("topic %s not readable; every tenant gets the default", self._topic)
            return []
        return sorted(p["partition"] for p in described["partitions"])

    async def stop(self) -> None:
        """Stop following and disconnect."""
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
            self._follow = None
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def _keep_following(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                self._apply(await consumer.getmany(timeout_ms=_POLL_MS))
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the last known regions, retry
                log.warning("reading %s failed; retrying", self._topic, exc_info=True)
                await asyncio.sleep(1)

    def _apply(self, batches: dict[Any, list[Any]]) -> None:
        adapter = value_adapter(TENANT_SETTINGS.name)
        for records in batches.values():
            for record in records:
                key: bytes | None = record.key
                value: bytes | None = record.value
                if not key:
                    continue
                tenant = tenant_of_key(key.decode("utf-8", "replace").encode())
                if value is None:  # tombstone: the tenant is gone
                    self._regions.pop(tenant, None)
                    continue
                try:
                    settings: TenantSettings = adapter.validate_json(value)
                except ValidationError:
                    log.warning("ignoring invalid settings of tenant %s", tenant)
                    continue
                self._regions[settings.tenant_id] = settings.default_phone_region


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
