"""Consumed records as plain values, decoded into chats (or dead letters), and the
headers a chat carries back from the retry topic."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import from_json

from chat_contracts.base import TENANT_ID_PATTERN, UNKNOWN_TENANT
from chat_contracts.chat import Conversation
from chat_contracts.dlq import DeadLetter, DeadLetterReason, original_copy, redact_headers
from chat_contracts.keys import tenant_of_key
from chat_contracts.registry import value_adapter
from chat_contracts.sync import SourcePosition, SyncRetry
from chat_contracts.topics import CHAT_CONVERSATIONS, CRM_SYNC_RETRY
from crm_sync.domain.results import SERVICE
from crm_sync.domain.work import ChatWork, Source

ATTEMPT_HEADER: Final = "crm-sync-attempt"
"""On a conversation forwarded from the retry topic: which attempt this delivery is."""
FIRST_FAILED_HEADER: Final = "crm-sync-first-failed-at"
"""On a forwarded conversation: when its first attempt failed (ISO 8601)."""
SOURCE_HEADER: Final = "crm-sync-source"
"""On a parked chat and its forwarded conversation: the `chat.conversations.v1` record it
was first read from (`topic:partition:offset`), so its results keep naming that record
(`SyncResult.source`) whichever delivery writes it."""
_MAX_MESSAGE = 2000


@dataclass(frozen=True, slots=True)
class InRecord:
    """One consumed Kafka record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0

    def header(self, name: str) -> str | None:
        """A header's value as text (the last one of that name)."""
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode("utf-8", "replace") if found else None


def _tenant_of(record: InRecord) -> str:
    tenant = tenant_of_key(record.key) if record.key else ""
    return tenant if re.fullmatch(TENANT_ID_PATTERN, tenant) else UNKNOWN_TENANT


def dead_letter_for(record: InRecord, exc: Exception) -> DeadLetter:
    """The dead letter of a record that is not a valid message."""
    invalid_json = isinstance(exc, ValidationError) and any(
        e["type"] == "json_invalid" for e in exc.errors(include_url=False)
    )
    reason = DeadLetterReason.INVALID_JSON if invalid_json else DeadLetterReason.SCHEMA_VALIDATION
    message = (
        str(exc.errors(include_url=False, include_input=False))
        if isinstance(exc, ValidationError)
        else str(exc)
    )
    value, text = original_copy(record.value, (message or type(exc).__name__)[:_MAX_MESSAGE])
    return DeadLetter(
        tenant_id=_tenant_of(record),
        reason=reason,
        message=text,
        service=SERVICE,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        original_key=record.key,
        original_value=value,
        original_headers=redact_headers(record.headers),
    )


def _attempt(record: InRecord) -> tuple[int, datetime | None]:
    raw_attempt, raw_first = record.header(ATTEMPT_HEADER), record.header(FIRST_FAILED_HEADER)
    try:
        attempt = max(1, int(raw_attempt)) if raw_attempt else 1
        first = datetime.fromisoformat(raw_first) if raw_first else None
    except ValueError:
        return 1, None
    return attempt, first


def position_text(position: SourcePosition) -> bytes:
    """A record position as a header value: `topic:partition:offset` (a topic name has no
    colon)."""
    return f"{position.topic}:{position.partition}:{position.offset}".encode()


def parse_position(text: str | None) -> SourcePosition | None:
    """`position_text` read back; None when absent or not a position."""
    if not text:
        return None
    topic, _, rest = text.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    try:
        return SourcePosition(topic=topic, partition=int(partition), offset=int(rest))
    except ValueError:  # pydantic's ValidationError is one too
        return None


def _origin(record: InRecord) -> SourcePosition:
    return parse_position(record.header(SOURCE_HEADER)) or SourcePosition(
        topic=record.topic, partition=record.partition, offset=record.offset
    )


def tenant_of(record: InRecord) -> str | None:
    """The tenant a conversation record names (`tenant_id`, read with the parser
    `decode_chats` validates with), or None when it names none: what a lane is picked by
    before the record is decoded. The record may still fail to validate, as its lane finds."""
    try:
        value = from_json(record.value or b"")
    except ValueError:
        return None
    tenant_id = value.get("tenant_id") if isinstance(value, dict) else None
    if isinstance(tenant_id, str) and re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        return tenant_id
    return None


def decode_chats(records: Sequence[InRecord]) -> tuple[list[ChatWork], list[DeadLetter]]:
    """Conversations as chats to write; what does not validate as dead letters."""
    adapter = value_adapter(CHAT_CONVERSATIONS.name)
    works, dead = [], []
    for record in records:
        try:
            conversation: Conversation = adapter.validate_json(record.value or b"")
        except ValidationError as exc:
            dead.append(dead_letter_for(record, exc))
            continue
        attempt, first_failed = _attempt(record)
        source = Source(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=record.headers,
            attempt=attempt,
            first_failed_at=first_failed,
            origin=_origin(record),
        )
        works.append(ChatWork(conversation, source))
    return works, dead


def decode_retries(
    records: Sequence[InRecord],
) -> tuple[list[tuple[InRecord, SyncRetry]], list[tuple[InRecord, DeadLetter]]]:
    """Parked chats; what does not validate as dead letters, each with its record."""
    adapter = value_adapter(CRM_SYNC_RETRY.name)
    retries, dead = [], []
    for record in records:
        try:
            retries.append((record, adapter.validate_json(record.value or b"")))
        except ValidationError as exc:
            dead.append((record, dead_letter_for(record, exc)))
    return retries, dead


def json_bytes(value: Any) -> bytes:
    """Compact JSON of a plain value."""
    return json.dumps(value, separators=(",", ":")).encode()
