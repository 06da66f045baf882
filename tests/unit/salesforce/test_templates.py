"""`{!Name}` placeholders in values and in SOQL (the knowledge base's forms included)."""
# ruff: noqa: S608 - SOQL built from test constants and quote()d values, not SQL

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_contracts.base import JsonScalar
from chat_salesforce.templates import (
    TemplateError,
    UnknownPlaceholders,
    placeholders,
    render_soql,
    substitute,
)
from sf_emulator.soql import ast
from sf_emulator.soql.parser import parse

EVIL = "x' OR Name != '"
VARS: dict[str, JsonScalar] = {
    "Visitor.Email": EVIL,
    "n": 5,
    "f": 2.5,
    "yes": True,
    "none": None,
    "pct": "50%_",
}


@pytest.mark.parametrize(
    "template",
    [
        "SELECT Id FROM Case WHERE Contact.Email = {!Visitor.Email}",
        "SELECT Id FROM Case WHERE Contact.Email = '{!Visitor.Email}'",
        'SELECT Id FROM Case WHERE Contact.Email = "{!Visitor.Email}"',
        # The knowledge base's example verbatim: typographic quotes, a stray quote inside.
        'SELECT Id FROM Case WHERE Contact.Email = \u201c{!Visitor.Email"}"',
        "SELECT Id FROM Case WHERE Contact.Email = \u201c{!Visitor.Email}\u201d",
    ],
)
def test_every_quoting_style_renders_one_escaped_literal(template: str) -> None:
    soql = render_soql(template, VARS)
    assert soql == "SELECT Id FROM Case WHERE Contact.Email = 'x\\' OR Name != \\''"
    where = parse(soql).where
    assert isinstance(where, ast.Comparison)
    assert isinstance(where.value, ast.Literal)
    assert where.value.value == EVIL


def test_typed_values_outside_quotes_and_text_inside() -> None:
    soql = render_soql(
        "SELECT Id FROM Lead WHERE NumberOfEmployees > {!n} AND AnnualRevenue = {!f} "
        "AND IsConverted = {!yes} AND Title = {!none} AND Name = 'n={!n} {!none}.'",
        VARS,
    )
    assert soql.endswith(
        "> 5 AND AnnualRevenue = 2.5 AND IsConverted = true AND Title = null AND Name = 'n=5 .'"
    )


def test_like_keeps_the_templates_wildcards_and_escapes_the_values() -> None:
    soql = render_soql("SELECT Id FROM Lead WHERE Name LIKE '%{!pct}%' OR Title LIKE {!pct}", VARS)
    assert "LIKE '%50\\%\\_%'" in soql
    assert "Title LIKE '50\\%\\_'" in soql


def test_double_quoted_text_is_rewritten_single_quoted() -> None:
    assert render_soql('SELECT Id FROM Lead WHERE Title = "it\'s {!n}"', VARS) == (
        "SELECT Id FROM Lead WHERE Title = 'it\\'s 5'"
    )


def test_unknown_placeholders_are_named_not_emptied() -> None:
    with pytest.raises(UnknownPlaceholders) as exc:
        render_soql("SELECT Id FROM Lead WHERE Email = {!Visitor.Mail} OR Name = '{!x}'", VARS)
    assert exc.value.names == ("Visitor.Mail", "x")
    with pytest.raises(UnknownPlaceholders):
        substitute("{!missing}", VARS)


@pytest.mark.parametrize(
    "template",
    [
        "SELECT Id FROM Lead WHERE Email = '{!n}",
        "SELECT Id FROM Lead WHERE Email = {!n",
        "SELECT Id FROM Lead WHERE Email = {!}",
        "SELECT Id FROM Lead WHERE Email = 'abc\\",
    ],
)
def test_broken_templates_are_errors(template: str) -> None:
    with pytest.raises(TemplateError):
        render_soql(template, VARS)


def test_substitute_keeps_the_type_of_a_lone_placeholder() -> None:
    assert substitute("{!n}", VARS) == 5
    assert substitute("{!none}", VARS) is None
    assert substitute("n={!n}, yes={!yes}, none={!none}", VARS) == "n=5, yes=true, none="
    assert substitute("no placeholders", VARS) == "no placeholders"
    assert placeholders("{!a} {!b} {!a}") == ("a", "b")


@given(value=st.text(max_size=40), style=st.sampled_from(["{!v}", "'{!v}'", '"{!v}"']))
def test_no_value_changes_the_structure_of_the_query(value: str, style: str) -> None:
    template = "SELECT Id FROM Lead WHERE Email = " + style + " AND Name != null"
    soql = render_soql(template, {"v": value})
    where = parse(soql).where
    assert isinstance(where, ast.And)
    assert len(where.items) == 2
    email = where.items[0]
    assert isinstance(email, ast.Comparison)
    assert isinstance(email.value, ast.Literal)
    assert email.value.value == value
