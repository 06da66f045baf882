"""What each record of the console's topics means for a tenant's history. Pure.

A record becomes rows: a `SyncResult` is one attempt of a chat and, when it is the newest
of its chat, the chat's outcome; a `DeadLetter` is one dead letter (with the chat it
carries, when its original value is one); a connection event is the tenant's connection
state; an `AuditEvent` is one line of the audit trail. Rows are plain dicts of column
values, keyed by the record's position so that storing a record twice changes nothing.
Times are stored as naive UTC (SQLite has no time zones) and read back as UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import TypeAdapter, ValidationError

from chat_contracts.audit import AuditEvent
from chat_contracts.auth_events import ConnectionEvent, PermissionCheckEvent
from chat_contracts.chat import Conversation
from chat_contracts.crm import CreateRecordCommand
from chat_contracts.dlq import DeadLetter
from chat_contracts.sync import SyncResult, SyncRetry

Status = Literal["ok", "deduped", "parked", "failed"]
STATUSES: Final[tuple[Status, ...]] = ("ok", "deduped", "parked", "failed")
CONNECTION_STATES: Final = ("connected", "refresh_failed", "revoked", "disconnected")
"""What a tenant's connection can be; "unknown" until auth says."""
TROUBLED: Final = frozenset({"refresh_failed", "revoked", "disconnected"})
"""States the console shows a banner for."""

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record was read: its topic, partition and offset, and its timestamp."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC).replace(tzinfo=None)

    @property
    def letter_id(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def naive_utc(value: datetime | None) -> datetime | None:
    """A datetime as the database keeps it: UTC without a zone."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def as_utc(value: datetime | str | None) -> datetime | None:
    """A stored time read back as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def chat_status(result: SyncResult) -> Status:
    """ok, deduped (ok and nothing new created), parked or failed."""
    if result.status == "ok":
        return "deduped" if result.deduped else "ok"
    return result.status


def chat_row(result: SyncResult, at: Position) -> Row:
    """The chat's outcome as this result says it (the newest result of a chat wins)."""
    error, person, activity, source = result.error, result.person, result.activity, result.source
    return {
        "tenant_id": result.tenant_id,
        "kind": result.kind,
        "chat_id": result.chat_id,
        "status": chat_status(result),
        "mode": result.mode,
        "visitor_email": result.visitor_email,
        "person_object": person.object if person else None,
        "person_id": person.record_id if person else None,
        "person_outcome": person.outcome if person else None,
        "activity_object": activity.object if activity else None,
        "activity_id": activity.record_id if activity else None,
        "activity_outcome": activity.outcome if activity else None,
        "owner_id": result.owner_id,
        **_error_columns(result),
        "error_fields": json.dumps(list(error.fields)) if error and error.fields else None,
        "retry_at": naive_utc(result.retry_at),
        "ended_at": naive_utc(result.ended_at),
        "api_calls": result.api_calls,
        "source_topic": source.topic if source else None,
        "source_partition": source.partition if source else None,
        "source_offset": source.offset if source else None,
        "result_partition": at.partition,
        "result_offset": at.offset,
        "updated_at": at.at,
    }


def _error_columns(result: SyncResult) -> Row:
    """What a chat's row and an attempt's row say of the result's error."""
    error = result.error
    return {
        "error_code": error.code if error else None,
        "error_message": error.message if error else None,
        "salesforce_error_code": error.salesforce_error_code if error else None,
    }


def attempt_row(result: SyncResult, at: Position) -> Row:
    """One attempt of a chat: every result record is one."""
    return {
        "topic": at.topic,
        "partition": at.partition,
        "offset": at.offset,
        "tenant_id": result.tenant_id,
        "kind": result.kind,
        "chat_id": result.chat_id,
        "status": chat_status(result),
        **_error_columns(result),
        "api_calls": result.api_calls,
        "batch_size": result.batch_size,
        "at": at.at,
    }


_CARRIERS: Final[TypeAdapter[SyncRetry | CreateRecordCommand | Conversation]] = TypeAdapter(
    SyncRetry | CreateRecordCommand | Conversation
)


def carried_chat(letter: DeadLetter) -> str | None:
    """The chat id a dead letter carries: its original value as a conversation, a parked
    conversation or a manual create from one; None for anything else (a raw event that
    did not parse, a value too large to copy)."""
    if letter.original_value is None:
        return None
    try:
        carrier = _CARRIERS.validate_json(letter.original_value)
    except ValidationError:
        return _raw_chat_id(letter.original_value)
    if isinstance(carrier, SyncRetry):
        return carrier.conversation.chat_id
    if isinstance(carrier, CreateRecordCommand):
        return carrier.effective_chat_id
    return carrier.chat_id


def _raw_chat_id(value: bytes) -> str | None:
    """A chat platform event's chat id, read leniently (ingest's dead letters)."""
    try:
        body = json.loads(value)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    for holder in (body, body.get("chat"), body.get("payload"), body.get("data")):
        if isinstance(holder, dict):
            for name in ("chat_id", "chatId", "id"):
                found = holder.get(name)
                if isinstance(found, str | int) and str(found).strip():
                    return str(found)[:200]
    return None


def letter_row(letter: DeadLetter, at: Position) -> Row:
    """One dead letter, identified by where it sits ("topic:partition:offset")."""
    return {
        "id": at.letter_id,
        "topic": at.topic,
        "partition": at.partition,
        "offset": at.offset,
        "tenant_id": letter.tenant_id,
        "reason": str(letter.reason),
        "message": letter.message,
        "error_code": letter.error_code,
        "error_fields": json.dumps(list(letter.error_fields)) if letter.error_fields else None,
        "service": letter.service,
        "chat_id": carried_chat(letter),
        "replayable": letter.original_value is not None,
        "failed_at": naive_utc(letter.failed_at),
    }


def connection_row(event: ConnectionEvent, at: Position) -> Row | None:
    """The tenant's connection state after this event; None for a permission check,
    which says what the connected user may do, not whether the tenant is connected."""
    if isinstance(event, PermissionCheckEvent):
        return None
    detail = getattr(event, "message", "") or getattr(event, "error", "") or ""
    return {
        "tenant_id": event.tenant_id,
        "state": event.kind,
        "detail": detail or None,
        "instance_url": getattr(event, "instance_url", None),
        "at": naive_utc(event.occurred_at),
        "offset": at.offset,
    }


def audit_row(event: AuditEvent) -> Row:
    """One line of the audit trail (a replayed record has the same message id)."""
    return {
        "message_id": str(event.message_id),
        "tenant_id": event.tenant_id,
        "at": naive_utc(event.occurred_at),
        "service": event.service,
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "changes": json.dumps([c.model_dump(mode="json") for c in event.changes]),
        "source_ip": event.source_ip,
    }
