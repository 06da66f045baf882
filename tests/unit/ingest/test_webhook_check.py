"""Which status a webhook request gets, and the raw record an accepted one becomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chat_contracts import ChatEndedEvent, RawChatEvent
from ingest_service.domain.webhook import Refused, Verified, check_request, raw_record
from tests.unit.ingest.factories import CHAT, SECRET, TENANT, chat, encode, signed

NOW = 1_714_564_800.0
SECRETS = {TENANT: (SECRET,)}


def check(
    body: bytes, timestamp: bytes | None = None, signature: bytes | None = None, now: float = NOW
) -> Verified | Refused:
    if timestamp is None and signature is None:
        timestamp, signature = signed(body, at=now)
    return check_request(body, timestamp, signature, SECRETS, now, 300)


def test_a_signed_event_is_verified() -> None:
    verdict = check(encode(CHAT))
    assert isinstance(verdict, Verified)
    assert verdict.tenant_id == TENANT
    assert isinstance(verdict.event, ChatEndedEvent)


def test_a_numeric_site_id_is_the_same_tenant() -> None:
    assert isinstance(check(encode(chat(site_id=10000))), Verified)


@pytest.mark.parametrize(
    "headers",
    [(None, b"sha256=00"), (b"1714564800", None), (b"", b""), (b"soon", b"sha256=00")],
)
def test_missing_or_malformed_headers_are_401(headers: tuple[bytes | None, bytes | None]) -> None:
    verdict = check_request(encode(CHAT), *headers, SECRETS, NOW, 300)
    assert isinstance(verdict, Refused)
    assert verdict.status == 401


def test_a_wrong_secret_or_an_unknown_tenant_is_401_and_says_no_more() -> None:
    body = encode(CHAT)
    wrong = check(body, *signed(body, secret=b"guess", at=NOW))
    unknown = check(encode(chat(site_id="99999")))
    assert wrong == unknown == Refused(401, "unauthorized")


def test_a_timestamp_outside_five_minutes_is_refused_as_a_replay() -> None:
    body = encode(CHAT)
    old = check(body, *signed(body, at=NOW - 301))
    ahead = check(body, *signed(body, at=NOW + 301))
    assert isinstance(old, Refused)
    assert old.status == 401
    assert old.detail is not None
    assert old == ahead
    assert isinstance(check(body, *signed(body, at=NOW - 299)), Verified)


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe{}", b'\xef\xbb\xbf{"a":1}'])
def test_malformed_json_is_400(body: bytes) -> None:
    verdict = check(body)
    assert isinstance(verdict, Refused)
    assert (verdict.status, verdict.error) == (
        400,
        "malformed_json",
    )


def test_json_that_is_not_an_object_is_400() -> None:
    verdict = check(b"[1, 2]")
    assert isinstance(verdict, Refused)
    assert (verdict.status, verdict.error) == (
        400,
        "invalid_event",
    )


def test_an_authenticated_body_that_is_not_an_event_gets_400_with_reasons() -> None:
    bad = chat(event="chat.started")
    verdict = check(encode(bad))
    assert isinstance(verdict, Refused)
    assert (verdict.status, verdict.error) == (
        400,
        "invalid_event",
    )
    assert verdict.detail
    assert "event" in verdict.detail[0]
    missing = chat()
    del missing["chat"]["id"]
    missing["chat"]["visitor"]["email"] = "secret-visitor@example.com"
    missing["chat"]["messages"][0]["from"] = "robot"
    verdict = check(encode(missing))
    assert isinstance(verdict, Refused)
    assert verdict.status == 400
    text = json.dumps(verdict.body())
    assert "chat.id" in text
    assert "chat.messages.0.from" in text
    assert "secret-visitor" not in text
    assert "robot" not in text


def test_the_raw_record_wraps_the_body_as_signed_under_its_key() -> None:
    body = encode(chat(site_id=10000, a_future_key={"kept": True}))
    verdict = check(body)
    assert isinstance(verdict, Verified)
    received = datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)
    key, value = raw_record(verdict, received)
    assert key == b"10000|event:evt-1"
    assert value.endswith(body + b"}")  # the exact bytes, not a re-encoding
    raw = RawChatEvent.model_validate_json(value)
    assert (raw.tenant_id, raw.source, raw.received_at) == ("10000", "webhook", received)
    assert raw.occurred_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert raw.payload == verdict.event
