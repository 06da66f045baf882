"""The documented wire format is all a caller needs: plain aiokafka, no SDK, no contracts.

The caller below knows only the README: JSON bodies, the `reply_to`, `correlation_id` and
`deadline` headers, a reply topic of its own, the tenant as key.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.asgi import AsgiFastStream

from chat_runtime.request_reply import Reply
from tests.kafka_helpers import temp_topic
from tests.reply_safety import probe


class PlainCaller:
    def __init__(self, bootstrap: str, request_topic: str, reply_topic: str) -> None:
        self.request_topic, self.reply_topic = request_topic, reply_topic
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()
        tp = TopicPartition(self.reply_topic, 0)
        self.consumer.assign([tp])
        await self.consumer.seek_to_end(tp)
        await self.consumer.position(tp)

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def send(
        self, body: bytes, *, tenant: str, deadline_s: float | None = 10, reply: bool = True
    ) -> str:
        correlation_id = uuid.uuid4().hex
        headers = [
            ("correlation_id", correlation_id.encode()),
            ("content-type", b"application/json"),
        ]
        if reply:
            headers.append(("reply_to", self.reply_topic.encode()))
        if deadline_s is not None:
            headers.append(("deadline", str(int((time.time() + deadline_s) * 1000)).encode()))
        await self.producer.send_and_wait(
            self.request_topic, body, key=tenant.encode(), headers=headers
        )
        return correlation_id

    async def replies(self, wait_s: float) -> dict[str, dict[str, Any]]:
        """Replies that arrive within `wait_s`, by correlation id."""
        out: dict[str, dict[str, Any]] = {}
        until = time.monotonic() + wait_s
        while time.monotonic() < until:
            for records in (await self.consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    assert headers["content-type"] == "application/json"
                    out[headers["correlation_id"]] = json.loads(record.value or b"")
        return out


@pytest.fixture
async def caller(
    bot_app: AsgiFastStream, kafka_bootstrap: str, request_topic: str
) -> AsyncIterator[PlainCaller]:
    async with temp_topic(kafka_bootstrap, "replies.plain") as reply_topic:
        client = PlainCaller(kafka_bootstrap, request_topic, reply_topic)
        await client.start()
        try:
            yield client
        finally:
            await client.stop()


async def test_a_plain_kafka_client_speaks_the_protocol(caller: PlainCaller, tenant: str) -> None:
    find = json.dumps(
        {
            "action": "find_record",
            "tenant_id": tenant,
            "object": "Lead",
            "field": "Email",
            "value": "{!Visitor.Email}",
            "variables": {"Visitor.Email": "jo@example.com"},
            "save": {"Company": "company"},
        }
    ).encode()
    create = json.dumps(
        {
            "action": "create_record",
            "tenant_id": tenant,
            "object": "Lead",
            "fields": {"LastName": "Plain", "Company": "Kafka"},
        }
    ).encode()
    ids = {
        "found": await caller.send(find, tenant=tenant),
        "created": await caller.send(create, tenant=tenant, deadline_s=None),
        "bad_json": await caller.send(b"{oops", tenant=tenant),
        "unknown_action": await caller.send(
            json.dumps({"action": "drop_table", "tenant_id": tenant}).encode(), tenant=tenant
        ),
        "expired": await caller.send(find, tenant=tenant, deadline_s=-1),
        "no_reply_to": await caller.send(find, tenant=tenant, reply=False),
    }
    replies = await caller.replies(wait_s=4)
    found = replies[ids["found"]]
    assert (found["status"], found["variables"]) == ("found", {"company": "Acme"})
    assert found["tenant_id"] == tenant
    assert replies[ids["created"]]["status"] == "created"
    assert replies[ids["bad_json"]]["code"] == "validation"
    assert replies[ids["unknown_action"]]["code"] == "validation"
    # Past its deadline: not executed, not answered; without reply_to: nowhere to answer.
    assert ids["expired"] not in replies
    assert ids["no_reply_to"] not in replies
    assert len(replies) == 4
    await asyncio.sleep(0)


async def test_replies_never_go_to_data_topics_nor_wait_behind_a_vanished_caller(
    bot_app: AsgiFastStream, kafka_bootstrap: str, request_topic: str, tenant: str
) -> None:
    body = json.dumps({"action": "list_objects", "tenant_id": tenant}).encode()

    def check(reply: Reply) -> None:
        assert reply.json()["status"] == "ok"

    await probe(kafka_bootstrap, request_topic, body, tenant.encode(), check)
