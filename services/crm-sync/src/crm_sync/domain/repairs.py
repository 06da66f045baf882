"""The console's repairs (`crm.commands.v1`): which records read back from Kafka are put
through the sync again, as what, and what the audit trail says of it.

A repair never writes to Salesforce itself: it produces the chat again on
`chat.conversations.v1` (a dead-lettered raw event again on `chat.raw.v1`, for ingest to
judge), where the sync's chat-id dedupe makes a chat already written create nothing. Each
record put back says so in its headers (`replay-of`: the record it repeats; `requested-by`),
which is how a backfill tells a replay from a chat as it first arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from pydantic import ValidationError

from chat_contracts.chat import Conversation
from chat_contracts.dlq import DeadLetter
from chat_contracts.keys import key_for_conversation, tenant_of_key
from chat_contracts.sync import SourcePosition, SyncRetry
from crm_sync.domain.inbound import (
    ATTEMPT_HEADER,
    SOURCE_HEADER,
    InRecord,
    parse_position,
    position_text,
)

REPLAY_OF_HEADER: Final = "replay-of"
"""On a record a repair put back: the record it repeats (`topic:partition:offset`)."""
REQUESTED_BY_HEADER: Final = "requested-by"
"""On a record a repair put back: who asked (the command's `requested_by`)."""
RESYNC_BEFORE: Final = timedelta(minutes=5)
"""A resync without a source position reads from this long before the chat's end (the
clocks of the chat platform and of Kafka differ a little)."""
RESYNC_AFTER: Final = timedelta(hours=1)
"""... up to the records written this long after it (ingest writes a chat within moments)."""
_JSON: Final = ("content-type", b"application/json")
_OURS: Final = {REPLAY_OF_HEADER, REQUESTED_BY_HEADER, ATTEMPT_HEADER, SOURCE_HEADER}


@dataclass(frozen=True, slots=True)
class RepairTopics:
    """The topics repairs read and write."""

    conversations: str
    crm_dlq: str
    chat_dlq: str
    raw: str
    audit: str


@dataclass(frozen=True, slots=True)
class Replay:
    """One record to produce again."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def is_replay(record: InRecord) -> bool:
    """A record that repeats an earlier one: put back by a repair, or forwarded from the
    retry topic. A backfill reads the first delivery only."""
    return any(name in (REPLAY_OF_HEADER, ATTEMPT_HEADER) for name, _ in record.headers)


def position_of(record: InRecord) -> SourcePosition:
    """Where `record` sits."""
    return SourcePosition(topic=record.topic, partition=record.partition, offset=record.offset)


def conversation_in(record: InRecord, tenant_id: str) -> Conversation | None:
    """The tenant's conversation `record` holds; None for another tenant's or a record that
    is not a conversation. The key is looked at first: most records of a scan are another
    tenant's, and are not parsed."""
    if record.key is None or tenant_of_key(record.key) != tenant_id:
        return None
    try:
        conversation = Conversation.model_validate_json(record.value or b"")
    except ValidationError:
        return None
    return conversation if conversation.tenant_id == tenant_id else None


def ended_in(conversation: Conversation, start: datetime, end: datetime) -> bool:
    """Whether the chat ended (the offline message was left) in [`start`, `end`)."""
    ended = conversation.ended_at or conversation.occurred_at
    return start <= ended < end


def _headers(
    of: SourcePosition, requested_by: str, origin: SourcePosition | None
) -> tuple[tuple[str, bytes], ...]:
    headers = [
        (REPLAY_OF_HEADER, position_text(of)),
        (REQUESTED_BY_HEADER, requested_by.encode()[:200]),
    ]
    if origin is not None:
        headers.append((SOURCE_HEADER, position_text(origin)))
    return tuple(headers)


def replay_conversation(
    conversation: Conversation,
    topic: str,
    *,
    of: SourcePosition,
    requested_by: str,
    origin: SourcePosition | None = None,
) -> Replay:
    """The conversation produced again under its own key, as a first attempt, naming the
    record it repeats and (`origin`) the conversations record its results name."""
    headers = (_JSON, *_headers(of, requested_by, origin))
    value = conversation.model_dump_json().encode()
    return Replay(topic, key_for_conversation(conversation), value, headers)


def replay_record(
    record: InRecord, conversation: Conversation, topics: RepairTopics, requested_by: str
) -> Replay:
    """A conversations record's chat put back; its results keep naming the record the chat
    first came from."""
    origin = parse_position(record.header(SOURCE_HEADER)) or position_of(record)
    return replay_conversation(
        conversation,
        topics.conversations,
        of=position_of(record),
        requested_by=requested_by,
        origin=origin,
    )


def replay_letter(
    record: InRecord, topics: RepairTopics, tenant_id: str, requested_by: str
) -> Replay | None:
    """What a dead letter of the tenant becomes again; None when it is not the tenant's, not
    a dead letter, or carries nothing to replay.

    A `crm.dlq.v1` letter holds the conversation crm-sync gave up on (as read from the
    conversations topic; a parked chat's `SyncRetry` is taken apart too): it is written
    again. A `chat.dlq.v1` letter holds an event ingest refused: it goes back to
    `chat.raw.v1` with its key and the headers the letter kept (redacted ones left out),
    for ingest to accept or refuse again."""
    try:
        letter = DeadLetter.model_validate_json(record.value or b"")
    except ValidationError:
        return None
    if letter.tenant_id != tenant_id or letter.original_value is None:
        return None
    of = position_of(record)
    if record.topic == topics.crm_dlq:
        conversation = _conversation_of(letter.original_value)
        if conversation is None or conversation.tenant_id != tenant_id:
            return None
        return replay_conversation(
            conversation,
            topics.conversations,
            of=of,
            requested_by=requested_by,
            origin=_letter_origin(letter, topics),
        )
    if record.topic != topics.chat_dlq or letter.source_topic != topics.raw:
        return None
    if letter.original_key is None or tenant_of_key(letter.original_key) != tenant_id:
        return None
    kept = tuple(
        (h.name, h.value)
        for h in letter.original_headers
        if not h.redacted and h.value is not None and h.name not in _OURS
    )
    headers = (*kept, *_headers(of, requested_by, None))
    return Replay(topics.raw, letter.original_key, letter.original_value, headers)


def _conversation_of(value: bytes) -> Conversation | None:
    for model in (Conversation, SyncRetry):
        try:
            parsed = model.model_validate_json(value)
        except ValidationError:
            continue
        return parsed.conversation if isinstance(parsed, SyncRetry) else parsed
    return None


def _letter_origin(letter: DeadLetter, topics: RepairTopics) -> SourcePosition | None:
    """The conversations record a crm-sync dead letter's chat first came from."""
    for header in letter.original_headers:
        if header.name == SOURCE_HEADER and header.value is not None:
            found = parse_position(header.value.decode("utf-8", "replace"))
            if found is not None:
                return found
    if letter.source_topic != topics.conversations or letter.source_offset is None:
        return None
    return SourcePosition(
        topic=letter.source_topic,
        partition=letter.source_partition or 0,
        offset=letter.source_offset,
    )
