"""The normaliser of `create_app()` on the real broker: conversations, dead letters,
committed offsets, and a dedupe memory that survives a restart."""

from __future__ import annotations

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from chat_contracts import Conversation, DeadLetter
from chat_contracts.keys import raw_event_key
from chat_runtime.kafka import KafkaKit
from ingest_service.adapters.kafka import KafkaPublisher
from tests.integration.ingest.support import (
    eventually,
    ingest_topics,
    produce,
    read_topic,
    served,
    settings_for,
)
from tests.unit.ingest.factories import CHAT, OFFLINE, chat, raw_value


def keyed(body: dict[str, object]) -> tuple[bytes, bytes]:
    return raw_event_key("10000", str(body["event_id"])), raw_value(body)


async def _committed_at_least(bootstrap: str, group: str, topic: str, offsets: int) -> bool:
    return await committed(bootstrap, group, topic) >= offsets


async def committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def test_raw_events_become_conversations_and_bad_ones_dead_letters(
    kafka_bootstrap: str,
) -> None:
    async with ingest_topics(kafka_bootstrap) as topics:
        settings = settings_for(kafka_bootstrap, topics, webhook_enabled=False)
        await produce(
            kafka_bootstrap,
            topics.raw,
            keyed(CHAT),
            keyed(CHAT),  # the platform retried: same event id, same partition
            (b"10000|event:broken", b'{"schema_version": 1, "payl'),
            keyed(OFFLINE),
        )
        async with served(settings):
            conversations = await read_topic(kafka_bootstrap, topics.conversations, 2, settle_s=0.5)
            (letter_record,) = await read_topic(kafka_bootstrap, topics.dlq, 1)
            # Committed, and only after both outputs were published.
            await eventually(
                lambda: _committed_at_least(kafka_bootstrap, settings.group_id, topics.raw, 4),
                "offsets committed",
            )
        events = sorted(Conversation.model_validate_json(r.value).event_id for r in conversations)
        assert events == ["evt-1", "evt-2"]
        letter = DeadLetter.model_validate_json(letter_record.value)
        assert (letter.reason, letter.source_topic) == ("invalid_json", topics.raw)
        assert letter.original_value == b'{"schema_version": 1, "payl'
        assert letter_record.key == b"10000"


async def test_an_event_delivered_again_after_a_restart_is_still_one_conversation(
    kafka_bootstrap: str,
) -> None:
    async with ingest_topics(kafka_bootstrap) as topics:
        settings = settings_for(kafka_bootstrap, topics, webhook_enabled=False)
        await produce(kafka_bootstrap, topics.raw, keyed(CHAT))
        async with served(settings):
            await read_topic(kafka_bootstrap, topics.conversations, 1)
            await eventually(
                lambda: _committed_at_least(kafka_bootstrap, settings.group_id, topics.raw, 1),
                "offset committed",
            )
        # ingest is down; the platform retries evt-1 and sends evt-3; ingest comes back.
        await produce(kafka_bootstrap, topics.raw, keyed(CHAT), keyed(chat(event_id="evt-3")))
        async with served(settings):
            conversations = await read_topic(kafka_bootstrap, topics.conversations, 2, settle_s=1.0)
        events = sorted(Conversation.model_validate_json(r.value).event_id for r in conversations)
        assert events == ["evt-1", "evt-3"]


async def test_nothing_is_committed_before_the_conversation_is_stored(kafka_bootstrap: str) -> None:
    async with ingest_topics(kafka_bootstrap) as topics:
        settings = settings_for(kafka_bootstrap, topics, webhook_enabled=False)
        publisher = KafkaPublisher(KafkaKit(kafka_bootstrap, "test"), linger_ms=1)  # not started
        await produce(kafka_bootstrap, topics.raw, keyed(CHAT))
        async with served(settings, publisher) as url, httpx.AsyncClient(base_url=url) as client:

            async def failed_once() -> bool:
                metrics = (await client.get("/metrics")).text
                return 'status="error"' in metrics and "faststream_received_processed" in metrics

            await eventually(failed_once, "a batch failed to publish")
            assert await committed(kafka_bootstrap, settings.group_id, topics.raw) == 0
            await publisher.start()  # Kafka takes records again: the same batch succeeds
            try:
                (stored,) = await read_topic(kafka_bootstrap, topics.conversations, 1)
                await eventually(
                    lambda: _committed_at_least(kafka_bootstrap, settings.group_id, topics.raw, 1),
                    "offset committed after the conversation was stored",
                )
            finally:
                await publisher.stop()
        assert Conversation.model_validate_json(stored.value).event_id == "evt-1"
