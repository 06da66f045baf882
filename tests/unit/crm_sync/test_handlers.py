"""The use cases' edges: input that is not a conversation, publishing, the retry consumer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from chat_contracts.dlq import DeadLetterReason
from chat_contracts.keys import key_for_conversation
from chat_contracts.sync import RetryReason, SyncError, SyncRetry
from crm_sync.adapters.files import HttpFileFetcher
from crm_sync.adapters.ports import PublishError
from crm_sync.domain.inbound import ATTEMPT_HEADER, FIRST_FAILED_HEADER, InRecord
from crm_sync.domain.linger import LINGER_FIRST_WRITE_S
from crm_sync.domain.work import ChatWork
from crm_sync.handlers.sync import SyncConversations
from tests.unit.crm_sync.conftest import TOPICS, Harness, conversation, record


async def test_bad_records_are_dead_lettered_and_the_rest_written(harness: Harness) -> None:
    harness.salesforce.org("t1")
    good = conversation()
    await harness.sync(
        [record(b"{not json", 0), record(b'{"tenant_id": "t1"}', 1), record(good, 2)]
    )
    dead = harness.dead()
    assert [d.reason for d in dead] == [
        DeadLetterReason.INVALID_JSON,
        DeadLetterReason.SCHEMA_VALIDATION,
    ]
    assert dead[0].tenant_id == "t1"
    assert dead[0].original_value == b"{not json"
    assert dead[0].source_offset == 0
    assert [r.chat_id for r in harness.results()] == [good.chat_id]


async def test_a_failed_publish_fails_the_poll(harness: Harness) -> None:
    harness.salesforce.org("t1")
    harness.publisher.fail = PublishError("broker down")
    with pytest.raises(ExceptionGroup):
        await harness.send(conversation())


def parked(harness: Harness, in_seconds: float, attempt: int = 1) -> InRecord:
    conv = conversation()
    now = harness.clock.now()
    retry = SyncRetry(
        tenant_id=conv.tenant_id,
        conversation=conv,
        attempt=attempt,
        not_before=now + timedelta(seconds=in_seconds),
        reason=RetryReason.REVOKED,
        last_error=SyncError(code="revoked"),
        first_failed_at=now - timedelta(minutes=5),
    )
    return InRecord(
        "retry", 0, attempt, key_for_conversation(conv), retry.model_dump_json().encode()
    )


async def test_due_chats_go_back_to_the_conversations_topic(harness: Harness) -> None:
    due, soon = parked(harness, -1, attempt=2), parked(harness, 3)
    await harness.forward([due, soon])
    [first] = harness.publisher.on(TOPICS.conversations)
    assert first.key == due.key
    headers = dict(first.headers)
    assert headers[ATTEMPT_HEADER] == b"3"
    assert headers[FIRST_FAILED_HEADER].startswith(b"2024-05-01T11:55")
    assert harness.forward.wait_s() == 3.0
    harness.clock.advance(3)
    await harness.forward.forward_due()
    assert [r.key for r in harness.publisher.on(TOPICS.conversations)] == [due.key, soon.key]


async def test_a_chat_due_later_is_held_not_written_back(harness: Harness) -> None:
    late = parked(harness, 3600)
    await harness.forward([late])
    assert harness.publisher.on(TOPICS.conversations) == []
    assert harness.publisher.on(TOPICS.retry) == []
    assert harness.forward.hold.commit_offsets() == {("retry", 0): late.offset}
    harness.clock.advance(3600)
    await harness.forward.forward_due()
    assert len(harness.publisher.on(TOPICS.conversations)) == 1
    assert harness.forward.hold.commit_offsets() == {("retry", 0): late.offset + 1}


async def test_a_failed_forward_keeps_the_chat_held_and_uncommitted(harness: Harness) -> None:
    due = parked(harness, -1)
    harness.publisher.fail = PublishError("broker down")
    with pytest.raises(PublishError):
        await harness.forward([due])
    assert harness.forward.hold.commit_offsets() == {("retry", 0): due.offset}
    harness.publisher.fail = None
    await harness.forward.forward_due()
    assert len(harness.publisher.on(TOPICS.conversations)) == 1
    assert harness.forward.hold.commit_offsets() == {("retry", 0): due.offset + 1}


async def test_a_parked_record_that_does_not_validate_is_dead_lettered(harness: Harness) -> None:
    await harness.forward([InRecord("retry", 0, 7, b"t1|x", b"{not json")])
    [letter] = harness.dead()
    assert letter.original_value == b"{not json"
    assert harness.forward.hold.commit_offsets() == {("retry", 0): 8}


async def test_a_forwarded_chat_is_written_with_its_attempt(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    await harness.forward([parked(harness, -1, attempt=4)])
    [forwarded] = harness.publisher.on(TOPICS.conversations)
    await harness.sync(
        [InRecord("conversations", 0, 9, forwarded.key, forwarded.value, forwarded.headers)]
    )
    [result] = harness.results()
    assert result.status == "ok"
    assert len(org.all("Task")) == 1


def test_a_lane_lingers_and_batches_as_its_tenant_says(harness: Harness) -> None:
    harness.settings("t1", batch_linger_ms=200, batch_max_size=20)
    harness.settings("t2", batch_linger_ms=5000)
    assert (harness.sync.linger_s("t1"), harness.sync.batch_limit("t1")) == (0.2, 20)
    assert harness.sync.linger_s("t2") == 5.0
    assert (harness.sync.linger_s("t9"), harness.sync.batch_limit("t9")) == (0.05, 200)


async def test_a_lane_lingers_up_to_the_latency_target_less_the_expected_write(
    harness: Harness,
) -> None:
    sync = SyncConversations(
        harness.engine,
        harness.store,
        harness.publisher,
        harness.outputs,
        harness.clock,
        tenant_deadline_s=60,
        latency_target_s=3.0,
    )
    harness.settings("t1")
    harness.settings("t2", batch_linger_ms=5000)
    org = harness.salesforce.org("t1")
    assert sync.linger_s("t1") == pytest.approx(3.0 - LINGER_FIRST_WRITE_S)
    assert sync.linger_s("t2") == 5.0  # a tenant's own longer linger is kept
    org.call_fault = lambda _: harness.clock.advance(0.5)
    for _ in range(30):  # a batch takes 1 s (two calls): the window leaves room for it
        await sync.lane("t1", [ChatWork(conversation("t1"))])
    assert sync.linger_s("t1") == pytest.approx(2.0, abs=0.05)
    harness.caches.park("t3", RetryReason.REVOKED, "revoked", 60)
    assert sync.linger_s("t3") == 0.0  # parked: its chats cost no call, nothing to share


async def test_a_waiting_lane_has_its_tenants_token_fetched_meanwhile(
    harness: Harness,
) -> None:
    org = harness.salesforce.org("t1")
    asked: list[str] = []
    connection = harness.salesforce.connection

    async def counting(tenant_id: str) -> Any:
        asked.append(tenant_id)
        return await connection(tenant_id)

    harness.salesforce.connection = counting  # type: ignore[method-assign]
    harness.sync.warm("t1")
    harness.sync.warm("t1")  # once at a time
    for _ in range(5):
        await asyncio.sleep(0)
    assert asked == ["t1"]
    assert org.calls == 0  # the describe rides on the batch's read, not a call of its own
    await harness.send(conversation())
    assert org.operations[0] == "read+describe"
    assert "describe" not in org.operations
    before = len(asked)
    harness.sync.warm("t1")  # met lately (its describe is fresh): nothing to fetch
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(asked) == before


def test_attachment_urls_are_fetched_only_where_allowed() -> None:
    fetcher = HttpFileFetcher(max_bytes=10, timeout_s=1, hosts=("files.test",))
    assert fetcher.allowed("https://files.test/a/1")
    assert not fetcher.allowed("http://files.test/a/1")
    assert not fetcher.allowed("https://169.254.169.254/latest/meta-data")
    assert not fetcher.allowed("file:///etc/passwd")


async def test_each_written_chat_reports_its_freshness(harness: Harness) -> None:
    # The SLO "chats in Salesforce within 60 s" counts chats written past 60 s of their end.
    harness.salesforce.org("t1")
    clock_now = harness.clock.now()
    fresh = conversation(ended_at=clock_now - timedelta(seconds=20))
    stale = conversation(ended_at=clock_now - timedelta(seconds=300))
    await harness.send(fresh, stale)
    await harness.send(fresh)  # a redelivery, deduplicated: not counted again

    def sample(name: str, **labels: str) -> float:
        value = harness.registry.get_sample_value(name, labels)
        return value or 0.0

    assert sample("chat_crm_sync_freshness_seconds_count") == 2
    assert sample("chat_crm_sync_freshness_seconds_bucket", le="60.0") == 1


async def test_per_tenant_counters_name_a_bounded_number_of_tenants(harness: Harness) -> None:
    from chat_runtime.metrics import OTHER_TENANTS, TenantLabels

    labels = TenantLabels(limit=1)
    object.__setattr__(harness.metrics.base, "tenant_label", labels)
    for tenant in ("t1", "t2", "t3"):
        harness.salesforce.org(tenant)
        await harness.send(conversation(tenant))

    def chats(tenant: str) -> float:
        value = harness.registry.get_sample_value(
            "chat_crm_sync_chats_total", {"tenant": tenant, "outcome": "ok"}
        )
        return value or 0.0

    assert (chats("t1"), chats(OTHER_TENANTS), chats("t2")) == (1, 2, 0)
    assert labels("t1") == "t1"  # a named tenant stays named
