"""A signed webhook with the chat's metrics, through both halves of ingest on the real
broker: the conversation carries rating, comment, wait, duration, department and tags."""

from __future__ import annotations

import httpx

from chat_contracts import Conversation
from tests.integration.ingest.support import ingest_topics, read_topic, served, settings_for
from tests.unit.ingest.factories import chat, encode, signed

SECRET = b"test-webhook-secret"


async def test_a_webhooks_chat_metrics_reach_the_conversation(kafka_bootstrap: str) -> None:
    body = chat(event_id="evt-metrics")
    body["chat"] |= {
        "rating": 5,
        "rating_comment": "Very <i>helpful</i>",
        "wait_s": 42,
        "duration_s": 610.6,
        "department": "Support",
        "tags": ["billing", " refund "],
    }
    raw = encode(body)
    timestamp, signature = signed(raw, secret=SECRET)
    async with ingest_topics(kafka_bootstrap) as topics:
        settings = settings_for(kafka_bootstrap, topics)
        async with served(settings) as url, httpx.AsyncClient(base_url=url) as client:
            answer = await client.post(
                "/webhooks/comm100",
                content=raw,
                headers={
                    "X-Webhook-Timestamp": timestamp.decode(),
                    "X-Webhook-Signature": signature.decode(),
                },
            )
            assert answer.status_code == 202, answer.text
            (record,) = await read_topic(kafka_bootstrap, topics.conversations, 1)
    c = Conversation.model_validate_json(record.value)
    assert (c.rating, c.rating_comment) == (5, "Very helpful")
    assert (c.wait_s, c.duration_s, c.department) == (42, 611, "Support")
    assert c.tags == ("billing", "refund")
