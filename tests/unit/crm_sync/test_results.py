"""What a result tells the console: the visitor, the chat's end, the next retry and the
record the chat came from, carried across the retry topic."""

from __future__ import annotations

from chat_contracts.sync import SourcePosition
from crm_sync.domain.inbound import SOURCE_HEADER, InRecord
from crm_sync.domain.salesforce import RecordError
from tests.unit.crm_sync.conftest import TOPICS, Harness, conversation, record
from tests.unit.crm_sync.test_sync_faults import fail_times


async def test_a_result_names_the_visitor_the_end_and_the_source(harness: Harness) -> None:
    harness.salesforce.org("t1")
    conv = conversation(visitor={"email": "Jo.Result@Example.com"})
    await harness.sync([record(conv, 41)])
    [result] = harness.results()
    assert result.visitor_email == "jo.result@example.com"
    assert result.ended_at == conv.ended_at
    assert result.retry_at is None
    assert result.source == SourcePosition(topic="conversations", partition=0, offset=41)


async def test_an_offline_message_ends_when_it_was_left(harness: Harness) -> None:
    harness.salesforce.org("t1")
    conv = conversation(kind="offline_message", ended_at=None, subject="Call me")
    [result] = await harness.send(conv)
    assert result.ended_at == conv.occurred_at


async def test_a_parked_result_says_when_it_is_tried_again(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.record_fault = fail_times(99, RecordError("UNABLE_TO_LOCK_ROW", "locked"), "Task")
    [result] = await harness.send(conversation())
    [retry] = harness.retries()
    assert result.status == "parked"
    assert result.retry_at == retry.not_before


async def test_a_chat_back_from_the_retry_topic_keeps_its_first_source(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.record_fault = fail_times(99, RecordError("UNABLE_TO_LOCK_ROW", "locked"), "Task")
    await harness.sync([record(conversation(), 7)])
    [parked] = harness.publisher.on(TOPICS.retry)
    assert dict(parked.headers)[SOURCE_HEADER] == b"conversations:0:7"
    harness.clock.advance(3600)
    await harness.forward([InRecord("retry", 0, 3, parked.key, parked.value, parked.headers)])
    [forwarded] = harness.publisher.on(TOPICS.conversations)
    assert dict(forwarded.headers)[SOURCE_HEADER] == b"conversations:0:7"
    org.record_fault = None
    await harness.sync(
        [InRecord("conversations", 0, 90, forwarded.key, forwarded.value, forwarded.headers)]
    )
    result = harness.results()[-1]
    assert result.status == "ok"
    assert result.source == SourcePosition(topic="conversations", partition=0, offset=7)


async def test_a_source_header_that_does_not_parse_gives_the_record_itself(
    harness: Harness,
) -> None:
    harness.salesforce.org("t1")
    await harness.send(conversation(), headers=[(SOURCE_HEADER, b"nonsense")])
    [result] = harness.results()
    assert result.source == SourcePosition(topic="conversations", partition=0, offset=0)
