"""The two use cases on in-memory fakes: what is published, remembered and counted."""

from __future__ import annotations

import json

import pytest

from chat_contracts import Conversation, DeadLetter, RawChatEvent
from ingest_service.adapters.ports import PublishError
from ingest_service.domain.dedupe import DedupeMemory
from ingest_service.domain.normalise import Normalised, normalise
from ingest_service.handlers.events import CHUNK, AcceptWebhook, NormaliseBatch, WebhookRequest
from tests.unit.ingest.factories import (
    CHAT,
    OFFLINE,
    RAW_TOPIC,
    SECRET,
    TENANT,
    FakePublisher,
    FakeRecentKeys,
    FakeRegions,
    Record,
    chat,
    encode,
    metrics,
    raw_value,
    records,
    sample,
    signed,
)

CONV, DLQ = "conv.test", "dlq.test"


class Rig:
    def __init__(self, recent: FakeRecentKeys | None = None, window_ms: int = 3_600_000) -> None:
        self.publisher = FakePublisher()
        self.recent = recent or FakeRecentKeys()
        self.metrics = metrics()
        self.memory = DedupeMemory(window_ms, 1000)
        self.handle = NormaliseBatch(
            publisher=self.publisher,
            recent_keys=self.recent,
            regions=FakeRegions({TENANT: "GB"}),
            memory=self.memory,
            conversations_topic=CONV,
            dlq_topic=DLQ,
            metrics=self.metrics,
        )

    def conversations(self) -> list[Conversation]:
        return [Conversation.model_validate_json(r.value) for r in self.publisher.on(CONV)]

    def dead_letters(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(r.value) for r in self.publisher.on(DLQ)]


async def test_a_batch_becomes_conversations_and_dead_letters() -> None:
    rig = Rig()
    batch = records([raw_value(CHAT), b"{oops", raw_value(OFFLINE), raw_value(chat(event="x"))])
    plan = await rig.handle(batch)
    assert [c.event_id for c in rig.conversations()] == ["evt-1", "evt-2"]
    assert [d.reason for d in rig.dead_letters()] == ["invalid_json", "unknown_event"]
    assert [d.source_offset for d in rig.dead_letters()] == [1, 3]
    assert rig.publisher.on(CONV)[0].key == b"10000|email:jo@example.com"
    assert rig.publisher.on(CONV)[0].headers == (("content-type", b"application/json"),)
    assert plan.next_offsets == {(RAW_TOPIC, 0): 4}
    m = rig.metrics
    assert sample(m, "ingest_conversations_total", kind="chat") == 1
    assert sample(m, "ingest_conversations_total", kind="offline_message") == 1
    labels = {"topic": RAW_TOPIC, "reason": "invalid_json"}
    assert sample(m, "chat_messages_dead_lettered_total", **labels) == 1
    assert sample(m, "ingest_invalid_fields_total", field="visitor.email") == 1


async def test_the_tenants_phone_region_applies() -> None:
    rig = Rig()
    body = chat()
    body["chat"]["visitor"]["phone"] = "020 7946 0018"
    await rig.handle(records([raw_value(body)]))
    assert rig.conversations()[0].visitor.phone_e164 == "+442079460018"


async def test_the_same_event_id_twice_yields_one_conversation() -> None:
    rig = Rig()
    await rig.handle(records([raw_value(CHAT), raw_value(CHAT)]))  # within a batch
    await rig.handle(records([raw_value(CHAT)], first_offset=2))  # in a later batch
    assert len(rig.conversations()) == 1
    assert sample(rig.metrics, "ingest_duplicates_total") == 2


async def test_the_memory_is_rebuilt_from_kafka_for_a_partition_taken_over() -> None:
    key = b"10000|event:evt-1"
    recent = FakeRecentKeys({(RAW_TOPIC, 0): [(key, 2**62)]})  # seen by a previous owner
    rig = Rig(recent)
    await rig.handle(records([raw_value(CHAT), raw_value(OFFLINE)], first_offset=10))
    assert recent.calls == [{(RAW_TOPIC, 0): 10}]  # read back up to the first new offset
    assert [c.event_id for c in rig.conversations()] == ["evt-2"]
    await rig.handle(records([raw_value(chat(event_id="evt-3"))], first_offset=12))
    assert len(recent.calls) == 1  # consecutive: the memory is current
    await rig.handle(records([raw_value(chat(event_id="evt-4"))], first_offset=20))
    assert len(recent.calls) == 2  # a gap: someone else consumed 13..19


async def test_a_failed_publish_commits_nothing_and_the_batch_is_redone_whole() -> None:
    rig = Rig()
    batch = records([raw_value(CHAT), raw_value(OFFLINE)])
    rig.publisher.fail = True
    with pytest.raises(PublishError):
        await rig.handle(batch)
    assert sample(rig.metrics, "ingest_conversations_total", kind="chat") == 0
    rig.publisher.fail = False
    await rig.handle(batch)  # redelivered from the same offset: nothing counts as seen
    assert [c.event_id for c in rig.conversations()] == ["evt-1", "evt-2"]


async def test_a_batch_is_handed_over_in_chunks_and_a_late_failure_still_commits_nothing() -> None:
    rig = Rig()
    batch = records([raw_value(chat(event_id=f"evt-{i}")) for i in range(CHUNK + 10)])
    rig.publisher.fail_after = 1  # the first chunk is taken, the second refused
    with pytest.raises(PublishError):
        await rig.handle(batch)
    assert len(rig.publisher.records) == CHUNK
    assert rig.memory.partitions[(RAW_TOPIC, 0)].next_offset == 0  # nothing remembered
    rig.publisher.fail_after = None
    await rig.handle(batch)  # redelivered whole: every event comes out (once more, for some)
    assert len({c.event_id for c in rig.conversations()}) == CHUNK + 10
    assert rig.memory.partitions[(RAW_TOPIC, 0)].next_offset == CHUNK + 10


async def test_dedupe_can_be_turned_off() -> None:
    rig = Rig(window_ms=0)
    await rig.handle(records([raw_value(CHAT), raw_value(CHAT)]))
    assert len(rig.conversations()) == 2
    assert rig.recent.calls == []


async def test_a_bug_in_normalisation_dead_letters_the_event_and_the_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def flaky(raw: RawChatEvent, region: str | None) -> Normalised:
        if raw.event_id == "evt-1":
            raise RuntimeError("boom")
        return normalise(raw, region)

    monkeypatch.setattr("ingest_service.domain.batch.normalise", flaky)
    rig = Rig()
    await rig.handle(records([raw_value(CHAT), raw_value(OFFLINE)]))
    assert [c.event_id for c in rig.conversations()] == ["evt-2"]
    (letter,) = rig.dead_letters()
    assert letter.reason == "internal_error"
    assert "RuntimeError: boom" in letter.message


async def test_records_of_several_partitions_keep_separate_memories() -> None:
    rig = Rig()
    batch = [*records([raw_value(CHAT)], partition=0), *records([raw_value(OFFLINE)], partition=1)]
    plan = await rig.handle(batch)
    assert len(rig.conversations()) == 2
    assert plan.next_offsets == {(RAW_TOPIC, 0): 1, (RAW_TOPIC, 1): 1}
    first, second = rig.memory.partitions[(RAW_TOPIC, 0)], rig.memory.partitions[(RAW_TOPIC, 1)]
    assert b"10000|event:evt-1" in first
    assert b"10000|event:evt-2" not in first
    assert b"10000|event:evt-2" in second


async def test_a_record_without_value_or_key_is_dead_lettered_as_unknown_tenant() -> None:
    rig = Rig()
    await rig.handle([Record(None, offset=0)])
    (letter,) = rig.dead_letters()
    assert (letter.tenant_id, letter.reason) == ("unknown", "invalid_json")


def accept(publisher: FakePublisher, now: float = 1_714_564_800.0) -> AcceptWebhook:
    return AcceptWebhook(
        secrets={TENANT: (SECRET,)},
        publisher=publisher,
        raw_topic=RAW_TOPIC,
        replay_window_s=300,
        publish_timeout_s=1,
        clock=lambda: now,
    )


async def test_an_accepted_webhook_is_stored_before_202() -> None:
    publisher = FakePublisher()
    body = encode(CHAT)
    response = await accept(publisher)(WebhookRequest(body, *signed(body, at=1_714_564_800)))
    assert (response.status, response.body) == (202, {"status": "accepted", "event_id": "evt-1"})
    (stored,) = publisher.on(RAW_TOPIC)
    assert stored.key == b"10000|event:evt-1"
    assert RawChatEvent.model_validate_json(stored.value).event_id == "evt-1"


async def test_a_webhook_kafka_cannot_take_is_503_and_nothing_is_acknowledged() -> None:
    publisher = FakePublisher()
    publisher.fail = True
    body = encode(CHAT)
    response = await accept(publisher)(WebhookRequest(body, *signed(body, at=1_714_564_800)))
    assert response.status == 503
    assert response.body["error"] == "unavailable"
    assert publisher.records == []


async def test_a_refused_webhook_stores_nothing() -> None:
    publisher = FakePublisher()
    response = await accept(publisher)(WebhookRequest(b"{}", b"1714564800", b"sha256=00"))
    assert response.status == 401
    assert publisher.records == []
    assert json.dumps(response.body) == '{"error": "unauthorized"}'
