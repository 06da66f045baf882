"""`TenantSettingsReader`: each tenant's settings, from the compacted `tenant.settings.v1`.

Read whole at start (readiness waits for it), then followed, so a change applies to the
next chats without a restart. A tombstone removes the tenant (`removed()`); a value that
is not `TenantSettings` is skipped with a warning, the last good one kept. crm-sync reads
the settings, ingest its phone regions through it; auth, which writes the topic, keeps its
own table (`auth_service.adapters.compacted`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from chat_contracts.keys import tenant_of_key
from chat_contracts.registry import value_adapter
from chat_contracts.settings import TenantSettings
from chat_contracts.topics import TENANT_SETTINGS

log = logging.getLogger(__name__)
_POLL_MS: Final = 500


class TenantSettingsReader:
    """`start()` loads the topic, `get(tenant)` answers from memory."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic: str = TENANT_SETTINGS.name,
        client_id: str,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._bootstrap = [s.strip() for s in bootstrap_servers.split(",") if s.strip()]
        self._options = dict(kafka_options or {})  # connection security
        self._topic = topic
        self._client_id = client_id
        self._settings: dict[str, TenantSettings] = {}
        self._removed: set[str] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._follow: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    def get(self, tenant_id: str) -> TenantSettings | None:
        """The tenant's settings; None when it has none (defaults apply)."""
        return self._settings.get(tenant_id)

    def removed(self, tenant_id: str) -> bool:
        """Whether the tenant's settings were deleted (a tombstone)."""
        return tenant_id in self._removed

    async def is_loaded(self) -> bool:
        """Readiness: the topic was read to its end once."""
        return self.loaded.is_set()

    async def start(self) -> None:
        """Read the topic to its current end, then follow it in the background."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-settings",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self._options,
        )
        await consumer.start()
        self._consumer = consumer
        partitions = await _partitions(self._bootstrap, self._topic, self._options)
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        if tps:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                self._apply(await consumer.getmany(timeout_ms=_POLL_MS))
            self._follow = asyncio.create_task(self._keep_following(consumer))
        else:
            log.warning(
                "settings topic %s has no partitions; every tenant gets defaults", self._topic
            )
        self.loaded.set()

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
            except Exception:  # keep the last known settings, retry
                log.warning("reading %s failed; retrying", self._topic, exc_info=True)
                await asyncio.sleep(1)

    def _apply(self, batches: dict[Any, list[Any]]) -> None:
        adapter = value_adapter(TENANT_SETTINGS.name)
        for records in batches.values():
            for record in records:
                key: bytes | None = record.key
                if not key:
                    continue
                # Leniently: a key that is not UTF-8 must not stop the reader.
                tenant = tenant_of_key(key.decode("utf-8", "replace").encode())
                if record.value is None:  # tombstone: the tenant is gone
                    self._settings.pop(tenant, None)
                    self._removed.add(tenant)
                    continue
                try:
                    settings: TenantSettings = adapter.validate_json(record.value)
                except ValidationError:
                    log.warning("ignoring invalid settings of tenant %s", tenant)
                    continue
                self._settings[settings.tenant_id] = settings
                self._removed.discard(settings.tenant_id)


async def _partitions(bootstrap: list[str], topic: str, options: dict[str, Any]) -> set[int]:
    """The topic's partitions (from the cluster, so a topic created moments ago is seen);
    none when it does not appear within 5 s."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    await admin.start()
    try:
        for _ in range(20):
            described = await admin.describe_topics([topic])
            found = {
                p["partition"] for t in described if t["topic"] == topic for p in t["partitions"]
            }
            if found:
                return found
            await asyncio.sleep(0.25)
    finally:
        await admin.close()
    return set()
