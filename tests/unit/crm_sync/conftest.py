"""Builders for crm-sync's unit tests: conversations, records, and the use cases wired to
in-memory fakes (the same wiring `create_app` does with the real adapters)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from chat_contracts.chat import Conversation
from chat_contracts.dlq import DeadLetter
from chat_contracts.keys import key_for_conversation
from chat_contracts.settings import TenantSettings
from chat_contracts.sync import SyncResult, SyncRetry
from chat_runtime.metrics import build_metrics
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.retry import RetryPolicy
from crm_sync.domain.tenant_state import TenantCaches
from crm_sync.handlers.engine import EngineOptions, SyncEngine
from crm_sync.handlers.outputs import Outputs, OutTopics
from crm_sync.handlers.sync import ForwardDueRetries, SyncConversations
from crm_sync.metrics import build_sync_metrics
from tests.unit.crm_sync.fakes import (
    FakeClock,
    FakeFetcher,
    FakePublisher,
    FakeSalesforce,
    FakeStore,
)

TOPICS = OutTopics(results="results", retry="retry", dlq="dlq", conversations="conversations")
_chat_ids = itertools.count(1)


def conversation(tenant: str = "t1", **overrides: Any) -> Conversation:
    """A chat ended by Jo Bloggs, with whatever `overrides` change (nested as dicts)."""
    n = next(_chat_ids)
    data: dict[str, Any] = {
        "tenant_id": tenant,
        "kind": "chat",
        "event_id": f"evt-{n}",
        "chat_id": f"c-{n}",
        "visitor": {"first_name": "Jo", "last_name": "Bloggs", "email": f"jo{n}@example.com"},
        "agent": {"email": "ann@acme.test", "name": "Ann Agent"},
        "started_at": datetime(2024, 5, 1, 11, 55, tzinfo=UTC),
        "ended_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "transcript": "[11:55] Jo: Hi\n[11:56] Ann Agent: Hello",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return Conversation.model_validate(data)


def record(
    conv: Conversation | bytes, offset: int = 0, headers: Sequence[tuple[str, bytes]] = ()
) -> InRecord:
    """A consumed record carrying `conv`."""
    if isinstance(conv, Conversation):
        return InRecord(
            "conversations",
            0,
            offset,
            key_for_conversation(conv),
            conv.model_dump_json().encode(),
            tuple(headers),
        )
    return InRecord("conversations", 0, offset, b"t1|email:x@y.z", conv, tuple(headers))


@dataclass
class Harness:
    salesforce: FakeSalesforce = field(default_factory=FakeSalesforce)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    store: FakeStore = field(default_factory=FakeStore)
    clock: FakeClock = field(default_factory=FakeClock)
    fetcher: FakeFetcher = field(default_factory=FakeFetcher)
    max_rounds: int = 4

    def __post_init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.metrics = build_sync_metrics(registry, build_metrics(registry))
        self.caches = TenantCaches(self.clock.monotonic, describe_ttl_s=3600, owner_ttl_s=900)
        self.policy = RetryPolicy()
        self.engine = SyncEngine(
            self.salesforce,
            self.caches,
            self.clock,
            EngineOptions(max_rounds=self.max_rounds, retry=self.policy),
            fetcher=self.fetcher,
            jitter=lambda: 0.5,
        )
        self.outputs = Outputs(TOPICS, self.metrics, self.policy, self.clock, jitter=lambda: 0.5)
        self.sync = SyncConversations(
            self.engine, self.store, self.publisher, self.outputs, self.clock, tenant_deadline_s=60
        )
        self.forward = ForwardDueRetries(
            self.publisher,
            self.outputs,
            TOPICS,
            self.clock,
            self.metrics,
            max_held_bytes=1024 * 1024,
            max_wait_s=3600,
        )

    def settings(self, tenant: str = "t1", **values: Any) -> TenantSettings:
        settings = TenantSettings(tenant_id=tenant, **values)
        self.store.settings[tenant] = settings
        return settings

    async def send(
        self, *convs: Conversation, headers: Sequence[tuple[str, bytes]] = ()
    ) -> list[SyncResult]:
        """Run one poll of `convs`; returns the results it published."""
        before = len(self.publisher.records)
        await self.sync([record(c, i, headers) for i, c in enumerate(convs)])
        return [
            SyncResult.model_validate_json(r.value)
            for r in self.publisher.records[before:]
            if r.topic == TOPICS.results
        ]

    def results(self) -> list[SyncResult]:
        return [SyncResult.model_validate_json(r.value) for r in self.publisher.on(TOPICS.results)]

    def dead(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(r.value) for r in self.publisher.on(TOPICS.dlq)]

    def retries(self) -> list[SyncRetry]:
        return [SyncRetry.model_validate_json(r.value) for r in self.publisher.on(TOPICS.retry)]


@pytest.fixture
def harness() -> Harness:
    return Harness()


def body(value: bytes) -> Any:
    return json.loads(value)
