"""Phones to E.164 with the tenant's default region."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from ingest_service.domain.phone import is_valid_number, to_e164


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


def test_validity_is_the_libraries_own_for_every_country_code() -> None:
    rnd = random.Random(1)
    checked = 0
    for code in COUNTRY_CODE_TO_REGION_CODE:
        for _ in range(25):
            digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(4, 12)))
            try:
                number = phonenumbers.parse(f"+{code}{digits}", None)
            except phonenumbers.NumberParseException:
                continue
            assert is_valid_number(number) == phonenumbers.is_valid_number(number), number
            checked += 1
    for raw in ("+1 415 555 0132", "+1 204 555 0199", "+44 20 7946 0958", "+44 1624 612345"):
        number = phonenumbers.parse(raw, None)  # +1 and +44 are shared by several regions
        assert is_valid_number(number) == phonenumbers.is_valid_number(number)
    assert checked > 1000
