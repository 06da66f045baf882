"""Helpers of ingest's integration and e2e tests: throwaway topics, the app on a free port,
reading what a topic holds."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_contracts.topics import CHAT_CONVERSATIONS, CHAT_DLQ, CHAT_RAW, LARGE_MESSAGE_BYTES
from ingest_service.adapters.ports import Publisher
from ingest_service.app import create_app
from ingest_service.config import Settings

WAIT_S = 15.0


@dataclass(frozen=True)
class Topics:
    raw: str
    conversations: str
    dlq: str
    settings: str


@asynccontextmanager
async def ingest_topics(
    bootstrap: str, raw_configs: dict[str, str] | None = None
) -> AsyncIterator[Topics]:
    """Fresh raw (3 partitions), conversations, DLQ and settings topics, deleted after."""
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(*(f"test.ingest.{n}.{suffix}" for n in ("raw", "conv", "dlq", "settings")))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topics.raw, 3, 1, topic_configs=raw_configs or dict(CHAT_RAW.extra_configs)
                ),
                NewTopic(
                    topics.conversations,
                    3,
                    1,
                    topic_configs=dict(CHAT_CONVERSATIONS.extra_configs),
                ),
                NewTopic(topics.dlq, 1, 1, topic_configs=dict(CHAT_DLQ.extra_configs)),
                NewTopic(topics.settings, 1, 1),
            ]
        )
        yield topics
    finally:
        await admin.delete_topics(list(vars(topics).values()))
        await admin.close()


def settings_for(bootstrap: str, topics: Topics, **overrides: Any) -> Settings:
    options: dict[str, Any] = {
        "kafka_bootstrap_servers": bootstrap,
        "group_id": f"test-ingest-{uuid.uuid4().hex[:8]}",
        "http_host": "127.0.0.1",
        "http_port": 0,
        "shutdown_timeout_s": 2.0,
        "webhook_secrets": {"10000": "test-webhook-secret"},
        "raw_topic": topics.raw,
        "conversations_topic": topics.conversations,
        "dlq_topic": topics.dlq,
        "tenant_settings_topic": topics.settings,
        "batch_timeout_ms": 20,
        "linger_ms": 1,
        "log_level": "WARNING",
    }
    options.update(overrides)
    return Settings(**options)


@asynccontextmanager
async def served(settings: Settings, publisher: Publisher | None = None) -> AsyncIterator[str]:
    """The app built by `create_app`, served by uvicorn on a free port: its base URL."""
    from chat_runtime.app import make_server
    from chat_runtime.logging import configure_logging

    server = make_server(create_app(settings, publisher=publisher), settings)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT_S):
            while not server.started:
                assert not task.done(), "uvicorn stopped while starting"
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT_S)
        configure_logging("tests")


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Poll `check` until it holds (broker state such as commits is not an event here)."""
    for _ in range(int(WAIT_S / 0.05)):
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never happened: {what}")


async def read_topic(bootstrap: str, topic: str, count: int, *, settle_s: float = 0.0) -> list[Any]:
    """The first `count` records of `topic` (waiting up to WAIT_S), then any that arrive
    within `settle_s` more: a test that expects exactly `count` sees extras."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(WAIT_S):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    found.extend(records)
        if settle_s:
            for records in (await consumer.getmany(timeout_ms=int(settle_s * 1000))).values():
                found.extend(records)
    finally:
        await consumer.stop()
    return found


async def produce(bootstrap: str, topic: str, *records: tuple[bytes | None, bytes | None]) -> None:
    """Produce (key, value) records and wait for them."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=LARGE_MESSAGE_BYTES
    )
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
