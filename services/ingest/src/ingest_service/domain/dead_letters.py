"""Reading a `chat.raw.v1` record, and the dead letter of one that cannot be read.

A dead letter keeps the record's key, value and headers (secret-looking headers
redacted by the contract) with a reason a human can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from pydantic import TypeAdapter, ValidationError

from chat_contracts.base import TENANT_ID_PATTERN, UNKNOWN_TENANT
from chat_contracts.chat_raw import RawChatEvent
from chat_contracts.dlq import DeadLetter, DeadLetterReason, original_copy, redact_headers
from chat_contracts.keys import tenant_key, tenant_of_key
from chat_contracts.topics import LARGE_MESSAGE_BYTES
from ingest_service.domain.consumed import RawRecord
from ingest_service.domain.errors import describe_errors, error_types

SERVICE: Final = "ingest"
MAX_RECORD_BYTES: Final = LARGE_MESSAGE_BYTES - 64 * 1024  # headroom for headers, batch
_RAW: Final[TypeAdapter[RawChatEvent]] = TypeAdapter(RawChatEvent)
_DEAD_LETTER: Final[TypeAdapter[DeadLetter]] = TypeAdapter(DeadLetter)
_TENANT: Final = re.compile(TENANT_ID_PATTERN)
_UNKNOWN_EVENT: Final = {"union_tag_invalid", "union_tag_not_found"}


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a record goes to the DLQ instead of becoming a conversation."""

    reason: DeadLetterReason
    message: str


def read_raw(value: bytes | None) -> RawChatEvent | Rejected:
    """The `RawChatEvent` in a record's value (one JSON decode), or why there is none."""
    if not value:
        return Rejected(DeadLetterReason.INVALID_JSON, "empty value")
    try:
        return _RAW.validate_json(value)
    except ValidationError as exc:
        return Rejected(_reason(exc), "; ".join(describe_errors(exc)))


def _reason(exc: ValidationError) -> DeadLetterReason:
    kinds = error_types(exc)
    if "json_invalid" in kinds or "json_type" in kinds:
        return DeadLetterReason.INVALID_JSON
    if kinds & _UNKNOWN_EVENT:
        return DeadLetterReason.UNKNOWN_EVENT
    return DeadLetterReason.SCHEMA_VALIDATION


def tenant_of(record: RawRecord) -> str:
    """The tenant a record's key names, or `UNKNOWN_TENANT` for a key that names none."""
    if record.key:
        try:
            tenant = tenant_of_key(record.key)
        except UnicodeDecodeError:
            return UNKNOWN_TENANT
        if _TENANT.fullmatch(tenant):
            return tenant
    return UNKNOWN_TENANT


def dead_letter(record: RawRecord, rejected: Rejected) -> tuple[bytes, bytes]:
    """(key, value) of the `chat.dlq.v1` record for `record`."""
    tenant = tenant_of(record)
    value, message = original_copy(record.value, rejected.message or rejected.reason.value)
    letter = DeadLetter(
        tenant_id=tenant,
        reason=rejected.reason,
        message=message,
        service=SERVICE,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        original_key=record.key,
        original_value=value,
        original_headers=redact_headers(record.headers),
    )
    return tenant_key(tenant), _DEAD_LETTER.dump_json(letter)
