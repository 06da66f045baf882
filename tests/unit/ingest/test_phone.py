"""Phones to E.164 with the tenant's default region, and the fast path for international
numbers against the library."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from ingest_service.domain.phone import (
    _INTERNATIONAL,
    is_valid_number,
    parse_international,
    to_e164,
)


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


# --- the fast path for plain international numbers agrees with phonenumbers.parse --------

_TYPES = [t for t in vars(phonenumbers.PhoneNumberType).values() if isinstance(t, int)]


def _library(raw: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None


def _spellings(number: phonenumbers.PhoneNumber) -> list[str]:
    """A number as people write it internationally: the library's own format, E.164,
    other separators, a national prefix in brackets, a trunk zero kept."""
    spaced = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    code, national = spaced.split(" ", 1) if " " in spaced else (e164, "")
    return [
        spaced,
        e164,
        spaced.replace(" ", "-"),
        spaced.replace(" ", "."),
        f"{code} ({national[:3]}) {national[3:]}",
        f"{code} (0){national}",
        f"{code} 0{national}",
        f"{code}{national.replace(' ', '')}0",
    ]


def test_the_international_fast_path_parses_as_the_library_for_every_region() -> None:
    checked = taken = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for raw in _spellings(example):
                if not _INTERNATIONAL.fullmatch(raw):
                    continue
                fast = parse_international(raw)
                checked += 1
                if fast is not None:
                    taken += 1
                    assert fast == _library(raw), raw
                for default in ("US", "GB", "DE"):
                    assert to_e164(raw, default) == _reference_e164(raw, default), raw
    assert checked > 5000
    assert taken > 0.9 * checked  # the fast path is the common one


def _reference_e164(raw: str, region: str) -> str | None:
    """to_e164 as the library alone would answer."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789 ().-", min_size=0, max_size=24))
def test_generated_international_numbers_parse_as_the_library(rest: str) -> None:
    raw = "+" + rest
    if not _INTERNATIONAL.fullmatch(raw):
        return
    fast = parse_international(raw)
    if fast is not None:
        assert fast == _library(raw)
    assert to_e164(raw, "US") == _reference_e164(raw, "US")
