"""Kafka unavailable when a webhook arrives: 503, so the sender retries, and nothing lost.

Two ways Kafka "cannot take it" without touching the shared broker: the raw topic is
missing (the producer waits for it as for a broker that is down, until the publish
timeout), and the producer itself is closed.
"""

from __future__ import annotations

import time
import uuid

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_contracts import Conversation
from chat_runtime.kafka import KafkaKit
from ingest_service.adapters.kafka import KafkaPublisher
from tests.integration.ingest.support import (
    Topics,
    ingest_topics,
    read_topic,
    served,
    settings_for,
)
from tests.unit.ingest.factories import CHAT, OFFLINE, chat, encode, signed

SECRET = b"test-webhook-secret"


async def post(client: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
    raw = encode(body)
    timestamp, signature = signed(raw, secret=SECRET)
    return await client.post(
        "/webhooks/comm100",
        content=raw,
        headers={
            "X-Webhook-Timestamp": timestamp.decode(),
            "X-Webhook-Signature": signature.decode(),
        },
    )


async def test_webhooks_during_an_outage_get_503_and_their_retries_are_all_delivered(
    kafka_bootstrap: str,
) -> None:
    async with ingest_topics(kafka_bootstrap) as existing:
        missing_raw = f"test.ingest.raw-later.{uuid.uuid4().hex[:8]}"
        topics = Topics(missing_raw, existing.conversations, existing.dlq, existing.settings)
        webhook = settings_for(
            kafka_bootstrap, topics, normaliser_enabled=False, publish_timeout_s=0.5
        )
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            async with served(webhook) as url, httpx.AsyncClient(base_url=url) as client:
                started = time.monotonic()
                down = [await post(client, body) for body in (CHAT, OFFLINE)]
                assert [r.status_code for r in down] == [503, 503]
                assert down[0].json() == {
                    "error": "unavailable",
                    "detail": "not stored; retry later",
                }
                assert time.monotonic() - started < 5  # the timeout bounds the sender's wait
                await admin.create_topics([NewTopic(missing_raw, 3, 1)])  # Kafka is back
                retried = [await post(client, body) for body in (CHAT, OFFLINE)]
                assert [r.status_code for r in retried] == [202, 202]
            normaliser = settings_for(kafka_bootstrap, topics, webhook_enabled=False)
            async with served(normaliser):
                stored = await read_topic(kafka_bootstrap, topics.conversations, 2, settle_s=1.0)
            events = sorted(Conversation.model_validate_json(r.value).event_id for r in stored)
            assert events == ["evt-1", "evt-2"]  # each exactly once, none lost
        finally:
            await admin.delete_topics([missing_raw])
            await admin.close()


async def test_a_closed_producer_answers_503_until_it_is_back(kafka_bootstrap: str) -> None:
    async with ingest_topics(kafka_bootstrap) as topics:
        settings = settings_for(kafka_bootstrap, topics)
        publisher = KafkaPublisher(KafkaKit(kafka_bootstrap, "test"), linger_ms=1)
        await publisher.start()
        try:
            async with (
                served(settings, publisher) as url,
                httpx.AsyncClient(base_url=url) as client,
            ):
                assert (await post(client, CHAT)).status_code == 202
                await publisher.stop()
                assert (await post(client, OFFLINE)).status_code == 503
                await publisher.start()
                assert (await post(client, OFFLINE)).status_code == 202
                assert (await post(client, chat(event_id="evt-3"))).status_code == 202
                stored = await read_topic(kafka_bootstrap, topics.conversations, 3, settle_s=1.0)
        finally:
            await publisher.stop()
        events = sorted(Conversation.model_validate_json(r.value).event_id for r in stored)
        assert events == ["evt-1", "evt-2", "evt-3"]
