"""Reading raw records, and the dead letters of those that cannot be read."""

from __future__ import annotations

import pytest

from chat_contracts import DeadLetter, DeadLetterReason, RawChatEvent
from chat_contracts.base import UNKNOWN_TENANT
from chat_contracts.dlq import COPY_LIMIT_BYTES
from ingest_service.domain.dead_letters import Rejected, dead_letter, read_raw
from tests.unit.ingest.factories import CHAT, Record, chat, raw_value


def test_a_valid_record_reads_as_its_event() -> None:
    assert isinstance(read_raw(raw_value(CHAT)), RawChatEvent)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, DeadLetterReason.INVALID_JSON),
        (b"", DeadLetterReason.INVALID_JSON),
        (b"\x00\xffnot json", DeadLetterReason.INVALID_JSON),
        (b'{"schema_version":1', DeadLetterReason.INVALID_JSON),
        (raw_value(chat(event="chat.started")), DeadLetterReason.UNKNOWN_EVENT),
        (raw_value(chat(event_id="")), DeadLetterReason.SCHEMA_VALIDATION),
        (raw_value(CHAT, tenant="20000"), DeadLetterReason.SCHEMA_VALIDATION),  # not its site
        (b'{"schema_version":2}', DeadLetterReason.SCHEMA_VALIDATION),
        (b"[]", DeadLetterReason.SCHEMA_VALIDATION),
    ],
)
def test_unreadable_records_are_rejected_with_a_reason(
    value: bytes | None, reason: DeadLetterReason
) -> None:
    rejected = read_raw(value)
    assert isinstance(rejected, Rejected)
    assert rejected.reason == reason
    assert rejected.message


def test_a_dead_letter_keeps_the_original_bytes_and_headers_but_no_secret() -> None:
    record = Record(
        b"\x00\xffnot json",
        offset=42,
        partition=3,
        key=b"10000|event:evt-1",
        headers=[("correlation_id", b"c1"), ("x-webhook-signature", b"sha256=abc")],
    )
    key, value = dead_letter(record, Rejected(DeadLetterReason.INVALID_JSON, "bad"))
    letter = DeadLetter.model_validate_json(value)
    assert key == b"10000"
    assert (letter.tenant_id, letter.reason, letter.message) == ("10000", "invalid_json", "bad")
    assert (letter.service, letter.source_topic) == ("ingest", record.topic)
    assert (letter.source_partition, letter.source_offset) == (3, 42)
    assert (letter.original_key, letter.original_value) == (record.key, record.value)
    headers = {h.name: h for h in letter.original_headers}
    assert headers["correlation_id"].value == b"c1"
    assert headers["x-webhook-signature"].value is None
    assert headers["x-webhook-signature"].redacted
    assert b"sha256=abc" not in value


@pytest.mark.parametrize("key", [None, b"", b"\xff\xfe", b"bad tenant|event:1"])
def test_a_record_whose_key_names_no_tenant_is_dead_lettered_as_unknown(key: bytes | None) -> None:
    dlq_key, value = dead_letter(Record(b"x", key=key), Rejected(DeadLetterReason.INVALID_JSON, ""))
    assert dlq_key == UNKNOWN_TENANT.encode()
    assert DeadLetter.model_validate_json(value).message == "invalid_json"


def test_a_value_too_large_to_carry_is_pointed_at_not_copied() -> None:
    record = Record(b"x" * (COPY_LIMIT_BYTES + 1), offset=7)
    _, value = dead_letter(record, Rejected(DeadLetterReason.INVALID_JSON, "bad"))
    letter = DeadLetter.model_validate_json(value)
    assert letter.original_value is None
    assert letter.source_offset == 7
    assert "not copied" in letter.message
