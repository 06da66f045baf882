"""The SOQL grammar: what parses, into what, and how syntax errors read."""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

import pytest

from sf_emulator.errors import SalesforceError
from sf_emulator.soql import ast
from sf_emulator.soql.parser import parse


def test_full_select() -> None:
    q = parse(
        "select Id, Owner.Email FROM Lead WHERE Email IN ('a', 'b') AND NOT (x = 1 OR "
        "y != null) ORDER BY Name DESC, Id ASC NULLS LAST LIMIT 5 OFFSET 2"
    )
    assert [f.text for f in q.fields or ()] == ["Id", "Owner.Email"]
    assert q.sobject == "Lead"
    assert q.limit == 5
    assert q.offset == 2
    assert isinstance(q.where, ast.And)
    email, negated = q.where.items
    assert isinstance(email, ast.Comparison)
    assert email.op == "in"
    assert isinstance(negated, ast.Not)
    assert isinstance(negated.item, ast.Or)
    name, ident = q.order_by
    assert (name.descending, name.nulls_last) == (True, None)  # the default: the org decides
    assert (ident.descending, ident.nulls_last) == (False, True)


def test_count_and_keyword_case() -> None:
    q = parse("SeLeCt CoUnT() fRoM Contact")
    assert q.fields is None
    assert q.sobject == "Contact"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("'x'", "string", "x"),
        ("-1.5", "number", -1.5),
        ("42", "number", 42.0),
        ("null", "null", None),
        ("TRUE", "boolean", True),
        ("false", "boolean", False),
        ("2024-02-29", "date", "2024-02-29"),
        ("2024-02-29T10:00:00Z", "datetime", "2024-02-29T10:00:00Z"),
        ("2024-02-29T10:00:00.123+01:00", "datetime", "2024-02-29T10:00:00.123+01:00"),
        ("LAST_N_DAYS:7", "date_literal", "LAST_N_DAYS:7"),
        ("today", "date_literal", "TODAY"),
    ],
)
def test_literals(text: str, kind: str, value: object) -> None:
    where = parse(f"SELECT Id FROM Lead WHERE F = {text}").where
    assert isinstance(where, ast.Comparison)
    assert isinstance(where.value, ast.Literal)
    assert (where.value.kind, where.value.value) == (kind, value)


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_comparison_operators(op: str) -> None:
    where = parse(f"SELECT Id FROM Lead WHERE N__c {op} 3").where
    assert isinstance(where, ast.Comparison)
    assert where.op == op


def test_less_greater_is_not_equal_and_set_operators() -> None:
    where = parse("SELECT Id FROM Lead WHERE A <> 'x'").where
    assert isinstance(where, ast.Comparison)
    assert where.op == "!="
    for word, op in [("NOT IN", "notin"), ("INCLUDES", "includes"), ("EXCLUDES", "excludes")]:
        cond = parse(f"SELECT Id FROM Lead WHERE T__c {word} ('a;b', 'c')").where
        assert isinstance(cond, ast.Comparison)
        assert cond.op == op
        assert isinstance(cond.value, tuple)
        assert len(cond.value) == 2


def test_names_that_start_with_keywords_stay_names() -> None:
    q = parse(
        "SELECT FromDate__c, Selected__c, Order__c, Description FROM Lead ORDER BY Description"
    )
    assert [f.text for f in q.fields or ()] == [
        "FromDate__c",
        "Selected__c",
        "Order__c",
        "Description",
    ]


def test_like_pattern_honours_escaped_wildcards() -> None:
    where = parse(r"SELECT Id FROM Lead WHERE Name LIKE 'a\_b%'").where
    assert isinstance(where, ast.Comparison)
    assert isinstance(where.value, ast.LikePattern)
    assert where.value.regex.fullmatch("A_bcd")
    assert not where.value.regex.fullmatch("axbcd")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("SELECT Id FROM Lead WHERE", "unexpected token: <EOF>"),
        ("SELECT Id Lead", "unexpected token: 'Lead'"),
        ('SELECT Id FROM Lead WHERE Email = "x"', "unexpected token: '\"'"),
        ("SELECT Id FROM Lead WHERE Email = 'unterminated", "ERROR at Row:1:Column:"),
        ("SELECT Id FROM Lead LIMIT -1", "ERROR at Row:1:Column:27"),
    ],
)
def test_syntax_errors_are_malformed_query(text: str, fragment: str) -> None:
    with pytest.raises(SalesforceError) as exc:
        parse(text)
    assert exc.value.error_code == "MALFORMED_QUERY"
    assert exc.value.status == 400
    assert fragment in exc.value.message


def test_error_position_and_caret() -> None:
    with pytest.raises(SalesforceError) as exc:
        parse("SELECT Id FROM Lead\nWHERE Email = = 'x'")
    assert exc.value.message.splitlines()[1:4] == [
        "WHERE Email = = 'x'",
        "              ^",
        "ERROR at Row:2:Column:15",
    ]


def test_offset_above_2000_is_refused() -> None:
    with pytest.raises(SalesforceError) as exc:
        parse("SELECT Id FROM Lead OFFSET 2001")
    assert exc.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
