"""Reading records back without a consumer group, as the repairs do: by position, and by
time across partitions up to where each partition ended when the scan began."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_contracts.base import utc_now
from chat_contracts.sync import SourcePosition
from chat_runtime.kafka import KafkaKit
from crm_sync.adapters.reader import KafkaRecordReader


async def test_records_are_read_by_position_and_by_time(kafka_bootstrap: str) -> None:
    topic = f"test.crm.reader.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
        old = int((utc_now() - timedelta(hours=2)).timestamp() * 1000)
        for partition in range(3):
            await producer.send_and_wait(topic, b"old", partition=partition, timestamp_ms=old)
        since = utc_now() - timedelta(seconds=1)
        for i in range(9):
            await producer.send_and_wait(topic, f"new{i}".encode(), partition=i % 3, key=b"k")
        reader = KafkaRecordReader(KafkaKit(kafka_bootstrap), poll_ms=100)

        found = await reader.read_at(SourcePosition(topic=topic, partition=1, offset=2))
        assert found is not None
        assert (found.value, found.key) == (b"new4", b"k")
        assert await reader.read_at(SourcePosition(topic=topic, partition=1, offset=9)) is None
        missing = SourcePosition(topic=f"{topic}.nope", partition=0, offset=0)
        assert await reader.read_at(missing) is None

        seen = []
        async for record in reader.scan(topic, since):
            seen.append(record.value or b"")
            if len(seen) == 1:  # written during the scan: past the end it began with
                await producer.send_and_wait(topic, b"later", partition=0)
        assert sorted(seen) == sorted(f"new{i}".encode() for i in range(9))

        until = since + timedelta(hours=1)
        window = [
            r.value or b"" async for r in reader.scan(topic, since - timedelta(hours=3), until)
        ]
        assert sorted(window) == sorted(
            [b"old"] * 3 + [b"later"] + [f"new{i}".encode() for i in range(9)]
        )
        early = [r.value async for r in reader.scan(topic, since - timedelta(hours=3), since)]
        assert early == [b"old"] * 3
    finally:
        await producer.stop()
        await asyncio.shield(admin.delete_topics([topic]))
        await admin.close()
