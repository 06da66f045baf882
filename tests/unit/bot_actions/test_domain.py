"""The pure domain: values, typed literals, create checks, find queries, replies."""

from __future__ import annotations

from typing import Any

import pytest

from bot_actions.domain import drafts, queries, replies
from bot_actions.domain.errors import ActionError
from bot_actions.domain.values import literal_for, resolve, resolve_all
from chat_contracts.bot import CreateRecordRequest, UpdateIfExists
from chat_contracts.bot_replies import BotErrorCode
from tests.unit.bot_actions.fakes import LEAD


def _field(name: str) -> Any:
    field = LEAD.field(name)
    assert field is not None
    return field


def test_resolve_reports_every_unknown_placeholder() -> None:
    assert resolve("{!n}", {"n": 3}) == 3
    with pytest.raises(ActionError) as exc:
        resolve_all({"A": "{!x}", "B": "{!y} {!x}", "C": 1}, {})
    assert exc.value.code is BotErrorCode.VALIDATION
    assert exc.value.fields == ("x", "y")


@pytest.mark.parametrize(
    ("field", "value", "literal"),
    [
        ("Email", "x' OR Id != '", "'x\\' OR Id != \\''"),
        ("Email", None, "null"),
        ("NumberOfEmployees", "12", "12"),
        ("NumberOfEmployees", 12.5, "12.5"),
        ("IsConverted", "TRUE", "true"),
        ("CreatedDate", "2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
    ],
)
def test_literals_are_typed_by_the_field(field: str, value: Any, literal: str) -> None:
    assert literal_for(_field(field), value) == literal


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("NumberOfEmployees", "12 OR Id != null"),
        ("NumberOfEmployees", "nan"),
        # Plain notation of these would be a 100 MB string (1e999999999: a gigabyte).
        ("NumberOfEmployees", "1e99999999"),
        ("NumberOfEmployees", "-1e-99999999"),
        ("NumberOfEmployees", "1e41"),
        ("IsConverted", "true OR Id != null"),
        ("CreatedDate", "2024-05-01T12:00:00Z OR Id != null"),
    ],
)
def test_nothing_but_a_checked_value_goes_unquoted(field: str, value: str) -> None:
    with pytest.raises(ActionError) as exc:
        literal_for(_field(field), value)
    assert exc.value.code is BotErrorCode.VALIDATION


def _create(
    fields: dict[str, Any], match: str | None = None, **variables: Any
) -> CreateRecordRequest:
    return CreateRecordRequest(
        tenant_id="t1",
        object="lead",
        fields=fields,
        variables=variables,
        update_if_exists=UpdateIfExists(match_field=match) if match else None,
    )


def test_draft_resolves_and_canonicalises() -> None:
    draft = drafts.draft_record(
        LEAD, _create({"lastname": "{!Visitor.Name}", "Company": "Acme"}, **{"Visitor.Name": "Jo"})
    )
    assert draft.object == "Lead"
    assert dict(draft.fields) == {"LastName": "Jo", "Company": "Acme"}


@pytest.mark.parametrize(
    ("fields", "code", "named"),
    [
        ({"LastName": "Jo"}, BotErrorCode.REQUIRED_FIELDS_MISSING, ("Company",)),
        (
            {"LastName": " ", "Company": None},
            BotErrorCode.REQUIRED_FIELDS_MISSING,
            ("LastName", "Company"),
        ),
        ({"LastName": "Jo", "Company": "A", "Nope": 1}, BotErrorCode.UNKNOWN_FIELD, ("Nope",)),
        (
            {"LastName": "Jo", "Company": "A", "IsConverted": True},
            BotErrorCode.VALIDATION,
            ("IsConverted",),
        ),
    ],
)
def test_draft_refusals(fields: dict[str, Any], code: BotErrorCode, named: tuple[str, ...]) -> None:
    with pytest.raises(ActionError) as exc:
        drafts.draft_record(LEAD, _create(fields))
    assert exc.value.code is code
    assert exc.value.fields == named


def test_match_query_and_update_values() -> None:
    draft = drafts.draft_record(
        LEAD,
        _create(
            {"LastName": "Jo", "Company": "A", "email": "a'b@x.co", "Source__c": "bot"}, "EMAIL"
        ),
    )
    assert drafts.match_query(LEAD, draft) == (
        "SELECT Id FROM Lead WHERE Email = 'a\\'b@x.co' ORDER BY CreatedDate ASC, Id ASC LIMIT 1"
    )
    assert "Source__c" not in drafts.update_values(LEAD, draft)
    with pytest.raises(ActionError) as exc:
        drafts.draft_record(LEAD, _create({"LastName": "Jo", "Company": "A"}, "Email"))
    assert exc.value.code is BotErrorCode.VALIDATION
    blank = drafts.draft_record(
        LEAD, _create({"LastName": "Jo", "Company": "A", "Email": ""}, "Email")
    )
    assert drafts.match_query(LEAD, blank) is None


def test_find_query() -> None:
    soql = queries.find_query(
        LEAD, "email", "{!v}", {"v": "x' OR Name != '"}, ["company", "Owner.Email", "Id"]
    )
    assert soql == (
        "SELECT Id, Company, Owner.Email FROM Lead WHERE Email = 'x\\' OR Name != \\'' "
        "ORDER BY CreatedDate ASC, Id ASC LIMIT 1"
    )
    with pytest.raises(ActionError) as exc:
        queries.find_query(LEAD, "Nope", "x", {}, ["Bad", "Boss.Name"])
    assert exc.value.code is BotErrorCode.UNKNOWN_FIELD
    assert exc.value.fields == ("Nope", "Bad", "Boss.Name")
    with pytest.raises(ActionError):
        queries.find_query(LEAD, "Description", "x", {}, [])


def test_user_query_saves_only_selected_fields() -> None:
    query = queries.user_query(
        'SELECT Id, Account.Name FROM Contact WHERE Email = "{!e}"',
        {"e": "a@b.co"},
        ["account.name"],
    )
    assert query.object == "Contact"
    assert query.soql == "SELECT Id, Account.Name FROM Contact WHERE Email = 'a@b.co'"
    with pytest.raises(ActionError) as exc:
        queries.user_query("SELECT Id FROM Case", {}, ["Subject", "Id"])
    assert exc.value.fields == ("Subject",)
    for bad in (
        "SELECT Id FROM Case WHERE Subject = {!nope}",
        "UPDATE Case",
        "SELECT Id FROM Case WHERE X = '",
    ):
        with pytest.raises(ActionError) as exc:
            queries.user_query(bad, {}, [])
        assert exc.value.code is BotErrorCode.VALIDATION
    assert queries.first_row(query, LEAD).endswith("ORDER BY CreatedDate ASC, Id ASC LIMIT 1")


def test_found_reply() -> None:
    record = {
        "attributes": {
            "type": "Contact",
            "url": "/services/data/v59.0/sobjects/Contact/003000000000001AAA",
        },
        "Email": "a@b.co",
        "Account": {"attributes": {}, "Name": "Acme", "BillingAddress": {"city": "X"}},
        "Owner": None,
    }
    reply = replies.found_reply(
        "t1",
        {"totalSize": 2, "records": [record]},
        {
            "email": "e",
            "Account.Name": "acc",
            "Owner.Email": "owner",
            "Account.BillingAddress": "addr",
        },
    )
    assert reply.status == "found"
    assert reply.record_id == "003000000000001AAA"
    assert reply.variables == {"e": "a@b.co", "acc": "Acme", "owner": None, "addr": '{"city": "X"}'}
    assert replies.found_reply("t1", {"totalSize": 0, "records": []}, {}).status == "not_found"
    assert replies.found_reply("t1", {"totalSize": 3, "records": []}, {}).status == "found"


def test_description_marks_required_fields() -> None:
    reply = replies.description_reply("t1", LEAD)
    required = [f.name for f in reply.fields if f.required]
    assert required == ["LastName", "Company"]
