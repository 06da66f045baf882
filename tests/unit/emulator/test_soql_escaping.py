"""SOQL string literal escapes, and that simple-salesforce's quoting round-trips exactly:
no visitor-supplied value can end the literal early or smuggle in a condition."""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from simple_salesforce.format import format_soql, quote_soql_value

from sf_emulator.errors import SalesforceError
from sf_emulator.soql import ast
from sf_emulator.soql.literals import like_regex, unescape
from sf_emulator.soql.parser import parse


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (r"'it\'s'", "it's"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'a\nb\rc\td\be\ff'", "a\nb\rc\td\be\ff"),
        (r"'\u00e9t\u00E9'", "été"),
        ("'plain % and _'", "plain % and _"),
    ],
)
def test_escapes(raw: str, value: str) -> None:
    assert unescape(raw) == value


@pytest.mark.parametrize("raw", [r"'\x'", r"'\_'", r"'\%'", r"'\u12'", "'\\q'", r"'\ '"])
def test_other_backslashes_are_malformed(raw: str) -> None:
    with pytest.raises(SalesforceError) as exc:
        unescape(raw)
    assert exc.value.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence" in exc.value.message


def test_like_only_escapes() -> None:
    regex = like_regex(r"'100\%\_done%'")
    assert regex.fullmatch("100%_DONE and more")
    assert not regex.fullmatch("100x_done")


@given(st.text(max_size=60))
def test_format_soql_round_trips_any_value(value: str) -> None:
    q = parse(format_soql("SELECT Id FROM Lead WHERE Email = {} AND Name != null", value))
    assert isinstance(q.where, ast.And)
    assert len(q.where.items) == 2
    email = q.where.items[0]
    assert isinstance(email, ast.Comparison)
    assert isinstance(email.value, ast.Literal)
    assert email.value.value == value


@given(st.lists(st.text(max_size=20), min_size=1, max_size=10))
def test_in_lists_round_trip(values: list[str]) -> None:
    q = parse("SELECT Id FROM Lead WHERE Email IN " + quote_soql_value(values))
    assert isinstance(q.where, ast.Comparison)
    assert isinstance(q.where.value, tuple)
    assert [lit.value for lit in q.where.value] == values


@given(st.text(max_size=30))
def test_like_formatting_matches_the_value_literally(value: str) -> None:
    q = parse(format_soql("SELECT Id FROM Lead WHERE Name LIKE '{:like}'", value))
    assert isinstance(q.where, ast.Comparison)
    assert isinstance(q.where.value, ast.LikePattern)
    assert q.where.value.regex.fullmatch(value)
