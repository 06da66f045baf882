"""Consumer lag as each service exports it (`chat_runtime.lag`), on the real broker."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import CollectorRegistry

from chat_runtime.kafka import KafkaKit
from chat_runtime.lag import LagReporter
from tests.kafka_helpers import temp_topic


async def test_lag_is_what_the_group_has_not_committed_per_partition(
    kafka_bootstrap: str,
) -> None:
    async with temp_topic(kafka_bootstrap, "lag", partitions=2) as topic:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for _ in range(5):
                await producer.send_and_wait(topic, b"x", partition=0)
            for _ in range(3):
                await producer.send_and_wait(topic, b"y", partition=1)
        finally:
            await producer.stop()
        group = f"lag-{uuid.uuid4().hex[:8]}"
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=200, max_records=1)
            await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
        finally:
            await consumer.stop()
        registry = CollectorRegistry()
        reporter = LagReporter(KafkaKit(kafka_bootstrap), {group: [topic]}, registry)
        await reporter.start()
        try:
            found = await reporter.collect()
        finally:
            await reporter.stop()
    assert found == {(group, topic, 0): 3, (group, topic, 1): 3}  # 5 - 2; none committed
    assert (
        registry.get_sample_value(
            "chat_consumer_lag", {"group": group, "topic": topic, "partition": "0"}
        )
        == 3
    )
