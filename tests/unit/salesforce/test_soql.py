"""SOQL literals: escaping by Salesforce's rules, typed values, IN lists."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_salesforce.soql import (
    SoqlValueError,
    escape_like,
    escape_string,
    format_number,
    in_list,
    quote,
    quote_like,
)
from sf_emulator.soql.literals import like_regex, unescape


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("x' OR Name != '", "'x\\' OR Name != \\''"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("back\\slash", "'back\\\\slash'"),
        ("a\nb\rc\td", "'a\\nb\\rc\\td'"),
        ("\x00\x1b\u2028", "'\\u0000\\u001b\\u2028'"),
        ("été ☃", "'été ☃'"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (1e-7, "0.0000001"),
        (2.5, "2.5"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 12, 0, 1, 999, tzinfo=UTC), "2024-05-01T12:00:01Z"),
    ],
)
def test_quote(value: object, literal: str) -> None:
    assert quote(value) == literal  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), datetime(2024, 5, 1)])
def test_values_without_a_literal_are_refused(value: object) -> None:
    with pytest.raises(SoqlValueError):
        quote(value)  # type: ignore[arg-type]


def test_like_escapes_wildcards_too() -> None:
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"
    assert quote_like("a%") == "'a\\%'"
    assert like_regex(quote_like("50%_off")).fullmatch("50%_OFF")
    assert not like_regex(quote_like("50%_off")).fullmatch("50 percent off")


def test_in_list() -> None:
    assert in_list(["a@b.co", "it's"]) == "('a@b.co','it\\'s')"
    with pytest.raises(SoqlValueError):
        in_list([])


def test_format_number_never_uses_an_exponent() -> None:
    assert format_number(1e21) == "1000000000000000000000"
    with pytest.raises(SoqlValueError):
        format_number(True)


@given(st.text())
def test_any_string_round_trips_through_salesforce_unescaping(value: str) -> None:
    # The emulator's reader implements Salesforce's escape rules.
    assert unescape("'" + escape_string(value) + "'") == value
