"""Webhook bodies, raw records and in-memory fakes of ingest's ports, for its tests."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from chat_contracts.keys import raw_event_key
from chat_runtime.metrics import build_metrics
from ingest_service.adapters.ports import OutRecord, PartitionKey, PublishError
from ingest_service.domain.signature import sign
from ingest_service.metrics import IngestMetrics, build_ingest_metrics

TENANT = "10000"
SECRET = b"test-webhook-secret"
RAW_TOPIC = "chat.raw.test"

CHAT: dict[str, Any] = {
    "event": "chat.ended",
    "event_id": "evt-1",
    "site_id": TENANT,
    "occurred_at": "2024-05-01T12:00:00Z",
    "chat": {
        "id": "c-1001",
        "started_at": "2024-05-01T12:55:00+01:00",
        "ended_at": "2024-05-01T12:00:00Z",
        "agent": {"email": " Ann@Acme.TEST", "name": "Ann  Agent"},
        "visitor": {
            "id": "v-8842",
            "name": "Jo  Bloggs",
            "email": " Jo@Example.COM ",
            "phone": "(415) 555-0132",
            "company": "Bloggs Ltd",
        },
        "messages": [
            {
                "from": "visitor",
                "name": "Jo",
                "text": "<p>Hi, a <b>quote</b>?</p>",
                "sent_at": "2024-05-01T11:55:10Z",
            },
            {"from": "agent", "text": "Sure &amp; welcome", "sent_at": "2024-05-01T11:56:00Z"},
            {"from": "bot", "text": "Rate us!"},
        ],
        "notes": "wants a <i>demo</i>",
        "custom_fields": {"Plan": "pro", "Seats": 5, "Trial": True, "Ref": None},
        "custom_variables": {"utm": "ads"},
        "request_page": " https://acme.test/pricing ",
        "attachments": [
            {"name": "a.pdf", "url": "https://files.test/a", "size": 3},
            {"name": "no-url", "url": "  "},
        ],
    },
}
OFFLINE: dict[str, Any] = {
    "event": "offline_message.submitted",
    "event_id": "evt-2",
    "site_id": TENANT,
    "occurred_at": "2024-05-01T12:00:00Z",
    "message": {
        "id": "m-77",
        "visitor": {"name": "Cher", "email": "not-an-email", "phone": "+44 20 7946 0958"},
        "subject": "Call   me back",
        "content": "Please call <br>after 5pm",
        "submitted_at": "2024-05-01T13:00:00+01:00",
    },
}


def chat(**changes: Any) -> dict[str, Any]:
    """A copy of CHAT with top-level keys replaced."""
    body = copy.deepcopy(CHAT)
    body.update(changes)
    return body


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def raw_value(body: Mapping[str, Any] | bytes, tenant: str = TENANT) -> bytes:
    """A `chat.raw.v1` value wrapping `body` (a direct producer's, source "topic")."""
    payload = body if isinstance(body, bytes) else encode(body)
    return (
        b'{"schema_version":1,"tenant_id":"' + tenant.encode() + b'","source":"topic",'
        b'"occurred_at":"2024-05-01T12:00:00Z","payload":' + payload + b"}"
    )


def signed(body: bytes, secret: bytes = SECRET, at: float | None = None) -> tuple[bytes, bytes]:
    """(timestamp, signature) headers for `body`."""
    timestamp = str(int(time.time() if at is None else at)).encode()
    return timestamp, sign(secret, timestamp, body)


@dataclass
class Record:
    """A consumed record, as aiokafka's ConsumerRecord looks to the domain."""

    value: bytes | None
    offset: int = 0
    partition: int = 0
    key: bytes | None = None
    topic: str = RAW_TOPIC
    timestamp: int = field(default_factory=lambda: int(time.time() * 1000))
    headers: Sequence[tuple[str, bytes]] = ()


def records(values: Sequence[bytes], first_offset: int = 0, partition: int = 0) -> list[Record]:
    """Consecutive records of one partition, keyed like the webhook keys them."""
    out = []
    for i, value in enumerate(values):
        try:
            body = json.loads(value)["payload"]
            key: bytes | None = raw_event_key(str(body["site_id"]), str(body["event_id"]))
        except (ValueError, KeyError, TypeError):
            key = None
        out.append(Record(value, offset=first_offset + i, partition=partition, key=key))
    return out


class FakePublisher:
    """Stores what it is given; `fail` makes the next calls raise PublishError."""

    def __init__(self) -> None:
        self.records: list[OutRecord] = []
        self.fail = False
        self.fail_after: int | None = None  # calls that succeed before the failures
        self.calls = 0

    async def publish(self, record: OutRecord, timeout_s: float) -> None:
        await (await self.enqueue([record]))

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        self.calls += 1
        if self.fail or (self.fail_after is not None and self.calls > self.fail_after):
            raise PublishError("Kafka is down (fake)")
        self.records.extend(records)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def on(self, topic: str) -> list[OutRecord]:
        return [r for r in self.records if r.topic == topic]


class FakeRecentKeys:
    """Serves read-backs from a dict of partition to `(key, timestamp_ms)` entries."""

    def __init__(self, entries: Mapping[PartitionKey, list[tuple[bytes, int]]] | None = None):
        self.entries = dict(entries or {})
        self.calls: list[dict[PartitionKey, int]] = []

    async def read(
        self, until: Mapping[PartitionKey, int], since_ms: int, max_records: int
    ) -> dict[PartitionKey, list[tuple[bytes, int]]]:
        self.calls.append(dict(until))
        return {p: [e for e in self.entries.get(p, []) if e[1] >= since_ms] for p in until}


class FakeRegions:
    def __init__(self, regions: Mapping[str, str] | None = None, default: str = "US") -> None:
        self.regions = dict(regions or {})
        self.default = default

    def region(self, tenant_id: str) -> str:
        return self.regions.get(tenant_id, self.default)


def metrics() -> IngestMetrics:
    registry = CollectorRegistry()
    return build_ingest_metrics(registry, build_metrics(registry))


def sample(m: IngestMetrics, name: str, **labels: str) -> float:
    value = m.service.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value
