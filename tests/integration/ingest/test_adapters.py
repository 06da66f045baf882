"""ingest's Kafka adapters against the real broker."""

from __future__ import annotations

import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_contracts import TenantSettings
from chat_contracts.keys import tenant_key
from chat_runtime.kafka import KafkaKit
from ingest_service.adapters.kafka import KafkaPublisher
from ingest_service.adapters.ports import OutRecord, PublishError
from ingest_service.adapters.recent_keys import KafkaRecentKeys
from ingest_service.adapters.tenant_settings import TenantSettingsRegions
from tests.integration.ingest.support import eventually, ingest_topics, produce, read_topic
from tests.kafka_helpers import temp_topic


async def test_the_publisher_returns_once_records_are_stored(kafka_bootstrap: str) -> None:
    async with temp_topic(kafka_bootstrap, "ingest-pub", partitions=2) as topic:
        publisher = KafkaPublisher(KafkaKit(kafka_bootstrap, "test"), linger_ms=1)
        await publisher.start()
        try:
            await publisher.publish(OutRecord(topic, b"k0", b"v0"), timeout_s=5)
            await publisher.publish_many([OutRecord(topic, f"k{i}".encode(), b"v") for i in (1, 2)])
        finally:
            await publisher.stop()
        stored = await read_topic(kafka_bootstrap, topic, 3)
        assert sorted(r.key for r in stored) == [b"k0", b"k1", b"k2"]
        assert stored[0].headers == (("content-type", b"application/json"),)
        with pytest.raises(PublishError):  # stopped: refused at once, never "accepted"
            await publisher.publish(OutRecord(topic, b"k", b"v"), timeout_s=5)
        await publisher.start()  # and it can come back
        await publisher.publish(OutRecord(topic, b"k3", b"v"), timeout_s=5)
        await publisher.stop()


async def test_a_record_kafka_cannot_take_fails_within_the_timeout_then_succeeds(
    kafka_bootstrap: str,
) -> None:
    # A topic the broker does not have (auto-creation is off): the producer waits for it
    # like for a broker that is down, until the timeout; once it exists, sends succeed.
    name = f"test.ingest.later.{uuid.uuid4().hex[:8]}"
    publisher = KafkaPublisher(KafkaKit(kafka_bootstrap, "test"), linger_ms=0)
    await publisher.start()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        started = time.monotonic()
        with pytest.raises(PublishError, match="did not confirm within 1s"):
            await publisher.publish(OutRecord(name, b"k", b"v"), timeout_s=1.0)
        assert time.monotonic() - started < 3
        await admin.create_topics([NewTopic(name, 1, 1)])
        await publisher.publish(OutRecord(name, b"k", b"v"), timeout_s=5.0)
    finally:
        await publisher.stop()
        await admin.delete_topics([name])
        await admin.close()


async def test_recent_keys_are_read_back_within_the_window_and_the_bound(
    kafka_bootstrap: str,
) -> None:
    async with temp_topic(kafka_bootstrap, "ingest-keys", partitions=1) as topic:
        base = int(time.time() * 1000) - 100_000
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for i in range(10):
                await producer.send_and_wait(
                    topic, b"v", key=f"k{i}".encode(), partition=0, timestamp_ms=base + i * 1000
                )
        finally:
            await producer.stop()
        reader = KafkaRecentKeys(KafkaKit(kafka_bootstrap, "test"))
        try:
            window = await reader.read({(topic, 0): 8}, since_ms=base + 3000, max_records=100)
            assert [k for k, _ in window[(topic, 0)]] == [f"k{i}".encode() for i in range(3, 8)]
            bounded = await reader.read({(topic, 0): 8}, since_ms=0, max_records=2)
            assert [k for k, _ in bounded[(topic, 0)]] == [b"k6", b"k7"]
            future = await reader.read({(topic, 0): 10}, since_ms=base + 60_000, max_records=100)
            assert future == {(topic, 0): []}
        finally:
            await reader.stop()


async def test_phone_regions_follow_the_compacted_settings_topic(kafka_bootstrap: str) -> None:
    async with ingest_topics(kafka_bootstrap) as topics:

        def settings(tenant: str, region: str) -> tuple[bytes, bytes]:
            value = TenantSettings(tenant_id=tenant, default_phone_region=region)
            return tenant_key(tenant), value.model_dump_json().encode()

        await produce(
            kafka_bootstrap,
            topics.settings,
            settings("20000", "GB"),
            settings("30000", "DE"),
            (tenant_key("30000"), None),  # tombstone: tenant 30000 removed
            (tenant_key("40000"), b"not settings"),  # ignored, with a warning
            (b"\xff\xfe", b"{}"),  # a key that is not UTF-8 does not stop the reader
        )
        regions = TenantSettingsRegions(
            KafkaKit(kafka_bootstrap, "test"), topic=topics.settings, default_region="US"
        )
        await regions.start()
        try:
            assert await regions.is_loaded()
            assert [regions.region(t) for t in ("20000", "30000", "40000")] == ["GB", "US", "US"]
            await produce(kafka_bootstrap, topics.settings, settings("50000", "FR"))
            await eventually(lambda: regions.region("50000") == "FR", "the new region applied")
        finally:
            await regions.stop()
