"""Helpers for tests that need throwaway topics on the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def wait_for_topics(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Return once every topic in `names` has all its partitions led: a topic just created
    is not in every metadata answer at once, and a client started at once may miss it."""
    for _ in range(200):
        described = await admin.describe_topics(names)
        if all(
            t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"topics {names} have no leaders after 10 s")


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
        await wait_for_topics(admin, [name])
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
