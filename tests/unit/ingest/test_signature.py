"""The webhook signature and its replay window."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from ingest_service.domain.signature import is_fresh, parse_timestamp, sign, signature_matches

BODY = b'{"event":"chat.ended"}'


def test_the_signature_is_the_documented_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s", b"1714564800." + BODY, hashlib.sha256).hexdigest()
    assert sign(b"s", b"1714564800", BODY) == b"sha256=" + expected.encode()


def test_a_signature_matches_only_its_secret_timestamp_and_body() -> None:
    good = sign(b"s", b"100", BODY)
    assert signature_matches([b"s"], b"100", BODY, good)
    assert signature_matches([b"s"], b"100", BODY, b"  " + good.upper() + b" ")  # hex case
    assert not signature_matches([b"other"], b"100", BODY, good)
    assert not signature_matches([b"s"], b"101", BODY, good)
    assert not signature_matches([b"s"], b"100", BODY + b" ", good)
    assert not signature_matches([b"s"], b"100", BODY, good[:-1])
    assert not signature_matches([b"s"], b"100", BODY, good.replace(b"sha256=", b"sha1="))
    assert not signature_matches([], b"100", BODY, good)


def test_any_secret_of_a_rotation_verifies() -> None:
    assert signature_matches([b"new", b"old"], b"1", BODY, sign(b"old", b"1", BODY))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"1714564800", 1714564800),
        (b" 42 ", 42),
        (b"", None),
        (b"-5", None),
        (b"1e9", None),
        (b"12.5", None),
        (b"9" * 13, None),
        ("١٢".encode(), None),
    ],
)
def test_timestamps_are_plain_unix_seconds(header: bytes, expected: int | None) -> None:
    assert parse_timestamp(header) == expected


def test_the_replay_window_is_five_minutes_either_way() -> None:
    assert is_fresh(1000, now=1300)
    assert is_fresh(1300, now=1000)
    assert not is_fresh(1000, now=1301)
    assert not is_fresh(1301, now=1000)
