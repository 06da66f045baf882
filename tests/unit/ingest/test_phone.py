"""Phones to E.164 with the tenant's default region."""

from __future__ import annotations

import pytest

from ingest_service.domain.phone import to_e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0132", "US", "+14155550132"),
        ("+1 415 555 0132", "GB", "+14155550132"),  # an explicit country code wins
        ("020 7946 0018", "GB", "+442079460018"),
        ("020 7946 0018", "US", None),  # not a US number
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("555-0199", "GB", None),  # too short to be valid
        ("call me", "US", None),
        ("", "US", None),
        ("1" * 100, "US", None),
    ],
)
def test_valid_numbers_become_e164_and_others_none(raw: str, region: str, e164: str | None) -> None:
    assert to_e164(raw, region) == e164
