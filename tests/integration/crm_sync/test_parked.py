"""The retry consumer on the real broker: a parked chat held in memory is not committed, so
a consumer that stops before it is due leaves it to the next one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from chat_contracts.keys import key_for_conversation
from chat_contracts.sync import RetryReason, SyncError, SyncRetry
from chat_runtime.clock import Clock
from chat_runtime.kafka import KafkaKit
from chat_runtime.metrics import build_metrics
from crm_sync.domain.retry import RetryPolicy
from crm_sync.entrypoints.parked import ParkedConsumer
from crm_sync.handlers.outputs import Outputs, OutTopics
from crm_sync.handlers.sync import ForwardDueRetries
from crm_sync.metrics import build_sync_metrics
from tests.integration.crm_sync.support import Producer, chat, temp_topics
from tests.unit.crm_sync.fakes import FakePublisher


async def until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Return once `condition()` holds (checked every 0.1 s); fail after `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def forwarder(topics: OutTopics, publisher: FakePublisher) -> ForwardDueRetries:
    registry = CollectorRegistry()
    metrics = build_sync_metrics(registry, build_metrics(registry))
    outputs = Outputs(topics, metrics, RetryPolicy(), Clock())
    return ForwardDueRetries(
        publisher, outputs, topics, Clock(), metrics, max_held_bytes=1 << 20, max_wait_s=60
    )


async def test_a_held_chat_survives_its_consumer_stopping_before_it_is_due(
    kafka_bootstrap: str,
) -> None:
    async with temp_topics(kafka_bootstrap) as names:
        topics = OutTopics(names.results, names.retry, names.dlq, names.conversations)
        kit, group = KafkaKit(kafka_bootstrap, "test-parked"), f"parked-{uuid.uuid4().hex[:8]}"
        conv = chat(f"t{uuid.uuid4().hex[:8]}")
        now = datetime.now(UTC)
        retry = SyncRetry(
            tenant_id=conv.tenant_id,
            conversation=conv,
            attempt=1,
            not_before=now + timedelta(seconds=6),
            reason=RetryReason.SALESFORCE_UNAVAILABLE,
            last_error=SyncError(code="salesforce_unavailable"),
            first_failed_at=now,
        )
        producer = Producer(kafka_bootstrap)
        await producer.start()
        await producer.raw(
            names.retry, key_for_conversation(conv), retry.model_dump_json().encode()
        )
        await producer.stop()

        first_out = FakePublisher()
        first = ParkedConsumer(kit, names.retry, group, forwarder(topics, first_out))
        await first.start()
        await until(lambda: len(first.forward.hold) > 0, 15)
        await first.stop()  # before the chat is due: it was read, held, never committed
        assert first_out.records == []

        second_out = FakePublisher()
        second = ParkedConsumer(kit, names.retry, group, forwarder(topics, second_out))
        await second.start()
        try:
            await until(lambda: bool(second_out.on(names.conversations)), 20)
        finally:
            await second.stop()
        [forwarded] = second_out.on(names.conversations)
        assert forwarded.key == key_for_conversation(conv)
        assert datetime.now(UTC) >= retry.not_before
