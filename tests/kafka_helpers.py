"""Helpers for tests that need throwaway topics on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewTopic


@asynccontextmanager
async def temp_topic(
    bootstrap: str, prefix: str = "test", partitions: int = 1
) -> AsyncIterator[str]:
    """A fresh topic with a unique name, deleted afterwards."""
    name = f"{prefix}.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def topic_exists(bootstrap: str, name: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return name in await admin.list_topics()
    finally:
        await admin.close()
