"""The console's repairs: chats read back from Kafka and put through the sync again, the
reply counting them, the audit trail saying who asked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from chat_contracts.audit import AuditEvent
from chat_contracts.chat import Conversation
from chat_contracts.crm import (
    BackfillCommand,
    CommandAcceptedReply,
    CrmCommandErrorReply,
    ReplayDeadLettersCommand,
    ResyncChatCommand,
)
from chat_contracts.dlq import DeadLetter, DeadLetterHeader, DeadLetterReason
from chat_contracts.keys import key_for_conversation, raw_event_key
from chat_contracts.sync import SourcePosition, SyncError, SyncRetry
from chat_runtime.request_reply.responder import Request
from crm_sync.domain.inbound import ATTEMPT_HEADER, SOURCE_HEADER, InRecord
from crm_sync.domain.repairs import REPLAY_OF_HEADER, REQUESTED_BY_HEADER, RepairTopics
from crm_sync.domain.salesforce import RecordError
from crm_sync.entrypoints.commands import REQUEST_TYPE, route
from crm_sync.handlers.repairs import Repairs
from tests.unit.crm_sync.conftest import TOPICS, Harness, conversation
from tests.unit.crm_sync.fakes import FakeClock, FakePublisher, FakeReader
from tests.unit.crm_sync.test_sync_faults import fail_times

REPAIR = RepairTopics(
    conversations="conversations",
    crm_dlq="crm.dlq",
    chat_dlq="chat.dlq",
    raw="chat.raw",
    audit="audit",
)
ENDED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Kit:
    def __init__(self, max_s: float = 60.0, chunk: int = 200) -> None:
        self.reader, self.publisher, self.clock = FakeReader(), FakePublisher(), FakeClock()
        self.repairs = Repairs(
            self.reader, self.publisher, REPAIR, self.clock, max_s=max_s, chunk=chunk
        )

    async def ask(self, command: Any, in_s: float = 30.0) -> Any:
        deadline = self.clock.now().timestamp() + in_s
        return await self.repairs(Request(command, command.tenant_id, {}, deadline))

    def put_back(self, topic: str = "conversations") -> list[Any]:
        return [r for r in self.publisher.records if r.topic == topic]

    def audit(self) -> list[AuditEvent]:
        return [AuditEvent.model_validate_json(r.value) for r in self.put_back("audit")]


def chat_record(
    conv: Conversation,
    offset: int,
    *,
    written: datetime = ENDED,
    headers: tuple[tuple[str, bytes], ...] = (),
    partition: int = 0,
) -> InRecord:
    return InRecord(
        "conversations",
        partition,
        offset,
        key_for_conversation(conv),
        conv.model_dump_json().encode(),
        headers,
        int(written.timestamp() * 1000),
    )


def letter_record(topic: str, offset: int, letter: DeadLetter) -> InRecord:
    return InRecord(topic, 0, offset, letter.tenant_id.encode(), letter.model_dump_json().encode())


def at(topic: str, offset: int, partition: int = 0) -> SourcePosition:
    return SourcePosition(topic=topic, partition=partition, offset=offset)


async def test_resync_puts_the_chat_at_its_source_back_marked_as_a_replay() -> None:
    kit = Kit()
    conv = conversation()
    kit.reader.add(chat_record(conv, 5, partition=2))
    command = ResyncChatCommand(
        tenant_id="t1", chat_id=conv.chat_id, source=at("conversations", 5, 2), requested_by="admin"
    )
    reply = await kit.ask(command)
    assert reply == CommandAcceptedReply(
        tenant_id="t1",
        command="resync_chat",
        requeued=1,
        skipped=0,
        message_id=reply.message_id,
        occurred_at=reply.occurred_at,
    )
    [again] = kit.put_back()
    assert again.key == key_for_conversation(conv)
    assert Conversation.model_validate_json(again.value) == conv
    headers = dict(again.headers)
    assert headers[REPLAY_OF_HEADER] == b"conversations:2:5"
    assert headers[REQUESTED_BY_HEADER] == b"admin"
    assert headers[SOURCE_HEADER] == b"conversations:2:5"
    [event] = kit.audit()
    assert (event.service, event.actor, event.action, event.outcome) == (
        "crm-sync",
        "admin",
        "crm.resync",
        "ok",
    )
    assert event.target == conv.chat_id
    assert {c.field: c.after for c in event.changes}["requeued"] == 1


async def test_resync_refuses_a_source_outside_the_conversations_topic() -> None:
    kit = Kit()
    command = ResyncChatCommand(
        tenant_id="t1", chat_id="c-1", source=at("crm.dlq", 5), requested_by="admin"
    )
    reply = await kit.ask(command)
    assert isinstance(reply, CrmCommandErrorReply)
    assert (reply.code, reply.fields) == ("validation", ("source",))
    assert kit.put_back() == []
    assert [e.outcome for e in kit.audit()] == ["refused"]


async def test_resync_skips_a_source_that_holds_another_chat_or_tenant() -> None:
    kit = Kit()
    kit.reader.add(chat_record(conversation(), 1))
    kit.reader.add(chat_record(conversation("t2", chat_id="c-x"), 2))
    for offset in (1, 2, 3):
        command = ResyncChatCommand(
            tenant_id="t1", chat_id="c-x", source=at("conversations", offset), requested_by="a"
        )
        reply = await kit.ask(command)
        assert (reply.requeued, reply.skipped) == (0, 1)
    assert kit.put_back() == []


async def test_resync_looks_by_the_chats_end_when_its_source_is_gone() -> None:
    kit = Kit()
    conv = conversation()
    kit.reader.add(chat_record(conv, 8))
    command = ResyncChatCommand(
        tenant_id="t1",
        chat_id=conv.chat_id,
        source=at("conversations", 3),  # removed by retention, say
        ended_at=ENDED,
        requested_by="admin",
    )
    assert (await kit.ask(command)).requeued == 1
    [again] = kit.put_back()
    assert dict(again.headers)[REPLAY_OF_HEADER] == b"conversations:0:8"


async def test_resync_without_a_source_looks_around_the_chats_end() -> None:
    kit = Kit()
    conv = conversation()
    kit.reader.add(chat_record(conversation("t2", chat_id=conv.chat_id), 0))
    kit.reader.add(chat_record(conversation(), 1))
    replayed = ((REPLAY_OF_HEADER, b"conversations:0:2"),)
    kit.reader.add(chat_record(conv, 2, headers=replayed))
    kit.reader.add(chat_record(conv, 3, written=ENDED + timedelta(seconds=2)))
    kit.reader.add(chat_record(conv, 4, written=ENDED + timedelta(seconds=3)))
    command = ResyncChatCommand(
        tenant_id="t1", chat_id=conv.chat_id, ended_at=ENDED, requested_by="admin"
    )
    reply = await kit.ask(command)
    assert reply.requeued == 1
    [again] = kit.put_back()
    assert dict(again.headers)[REPLAY_OF_HEADER] == b"conversations:0:3"
    assert kit.reader.scans == [
        ("conversations", ENDED - timedelta(minutes=5), ENDED + timedelta(hours=1))
    ]


def _letter(tenant: str, original: bytes | None, **extra: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "reason": DeadLetterReason.SALESFORCE_REJECTED,
        "message": "refused",
        "service": "crm-sync",
        **extra,
    }
    return DeadLetter(tenant_id=tenant, original_value=original, **values)


async def test_replay_puts_back_each_letter_of_the_tenant_and_skips_the_rest() -> None:
    kit = Kit()
    conv, parked_conv = conversation(), conversation()
    retry = SyncRetry(
        tenant_id="t1",
        conversation=parked_conv,
        attempt=1,
        not_before=ENDED,
        reason="revoked",
        last_error=SyncError(code="revoked"),
        first_failed_at=ENDED,
    )
    raw_key = raw_event_key("t1", "evt-9")
    raw_letter = _letter(
        "t1",
        b'{"raw": true}',
        service="ingest",
        source_topic="chat.raw",
        original_key=raw_key,
        original_headers=(
            DeadLetterHeader(name="content-type", value=b"application/json"),
            DeadLetterHeader(name="x-signature", value=None, redacted=True),
        ),
    )
    records = [
        letter_record("crm.dlq", 0, _letter("t1", conv.model_dump_json().encode())),
        letter_record("crm.dlq", 1, _letter("t1", retry.model_dump_json().encode())),
        letter_record("chat.dlq", 0, raw_letter),
        letter_record("crm.dlq", 2, _letter("t2", conv.model_dump_json().encode())),
        letter_record("crm.dlq", 3, _letter("t1", None)),
        letter_record("chat.dlq", 1, _letter("t1", b"{}", source_topic="elsewhere")),
    ]
    for record in records:
        kit.reader.add(record)
    positions = [at(r.topic, r.offset) for r in records]
    command = ReplayDeadLettersCommand(
        tenant_id="t1",
        letters=(*positions, at("conversations", 0), at("crm.dlq", 99)),
        requested_by="tenant-link",
    )
    reply = await kit.ask(command)
    assert (reply.requeued, reply.skipped) == (3, 5)
    chats = [Conversation.model_validate_json(r.value) for r in kit.put_back()]
    assert chats == [conv, parked_conv]
    [raw] = kit.put_back("chat.raw")
    assert (raw.key, raw.value) == (raw_key, b'{"raw": true}')
    assert raw.headers == (
        ("content-type", b"application/json"),
        (REPLAY_OF_HEADER, b"chat.dlq:0:0"),
        (REQUESTED_BY_HEADER, b"tenant-link"),
    )
    [event] = kit.audit()
    assert (event.action, event.actor, event.target) == (
        "crm.replay",
        "tenant-link",
        "8 dead letter(s)",
    )


async def test_a_replayed_crm_sync_dead_letter_names_its_first_source(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    error = RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", "no", ("Email",))
    org.record_fault = fail_times(1, error, "Lead")
    await harness.send(conversation())
    [dead] = harness.publisher.on(TOPICS.dlq)
    kit = Kit()
    kit.reader.add(InRecord("crm.dlq", 0, 4, dead.key, dead.value))
    command = ReplayDeadLettersCommand(
        tenant_id="t1", letters=(at("crm.dlq", 4),), requested_by="admin"
    )
    assert (await kit.ask(command)).requeued == 1
    [again] = kit.put_back()
    await harness.sync([InRecord("conversations", 0, 9, again.key, again.value, again.headers)])
    result = harness.results()[-1]
    assert result.status == "ok"
    assert result.source == at("conversations", 0)
    assert len(org.all("Task")) == 1


async def test_backfill_puts_back_the_tenants_chats_that_ended_in_the_window() -> None:
    kit = Kit(chunk=2)
    start, end = ENDED - timedelta(hours=1), ENDED + timedelta(hours=1)
    inside = [conversation(ended_at=ENDED + timedelta(minutes=i)) for i in range(5)]
    for i, conv in enumerate(inside):
        kit.reader.add(chat_record(conv, i))
    kit.reader.add(chat_record(conversation(ended_at=end), 10))
    kit.reader.add(chat_record(conversation(ended_at=start - timedelta(seconds=1)), 11))
    kit.reader.add(chat_record(conversation("t2"), 12))
    kit.reader.add(chat_record(inside[0], 13, headers=((REPLAY_OF_HEADER, b"conversations:0:0"),)))
    kit.reader.add(chat_record(inside[1], 14, headers=((ATTEMPT_HEADER, b"2"),)))
    command = BackfillCommand(tenant_id="t1", start=start, end=end, requested_by="admin")
    reply = await kit.ask(command)
    assert (reply.command, reply.requeued, reply.skipped) == ("backfill", 5, 0)
    assert [Conversation.model_validate_json(r.value) for r in kit.put_back()] == inside
    assert kit.reader.scans == [("conversations", start, None)]
    [event] = kit.audit()
    assert event.action == "crm.backfill"
    assert event.target == f"{start.isoformat()}/{end.isoformat()}"


async def test_a_repair_out_of_time_says_what_it_had_put_back() -> None:
    kit = Kit(max_s=0.3)
    kit.reader.delay_s = 0.05
    for i in range(50):
        kit.reader.add(chat_record(conversation(), i))
    command = BackfillCommand(
        tenant_id="t1",
        start=ENDED - timedelta(days=1),
        end=ENDED + timedelta(days=1),
        requested_by="cli",
    )
    reply = await kit.ask(command)
    assert isinstance(reply, CrmCommandErrorReply)
    assert reply.code == "deadline_exceeded"
    assert "put back" in reply.message
    assert [e.outcome for e in kit.audit()] == ["failed"]


async def test_a_repair_keeps_a_moment_of_the_callers_deadline_for_its_reply() -> None:
    kit = Kit()
    kit.reader.delay_s = 0.5
    kit.reader.add(chat_record(conversation(), 0))
    command = ResyncChatCommand(
        tenant_id="t1", chat_id="c-1", source=at("conversations", 0), requested_by="a"
    )
    async with asyncio.timeout(1.0):
        reply = await kit.ask(command, in_s=1.2)
    assert reply.code == "deadline_exceeded"


async def test_commands_are_routed_by_kind() -> None:
    seen: list[str] = []

    async def create(request: Request[Any]) -> Any:
        seen.append("create")
        return request.body

    async def repairs(request: Request[Any]) -> Any:
        seen.append("repairs")
        return request.body

    handle = route(create, repairs)
    for body in (
        b'{"tenant_id": "t1", "command": "create_record", "object": "Lead", "fields": {"A": 1}}',
        b'{"tenant_id": "t1", "command": "backfill", "requested_by": "a",'
        b' "start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"}',
    ):
        command = REQUEST_TYPE.validate_json(body)
        await handle(Request(command, "t1", {}, 0.0))
    assert seen == ["create", "repairs"]
    assert isinstance(
        REQUEST_TYPE.validate_json(
            b'{"tenant_id": "t1", "command": "resync_chat", "requested_by": "a", "chat_id": "c",'
            b' "ended_at": "2024-05-01T00:00:00Z"}'
        ),
        ResyncChatCommand,
    )
