"""lookup_visitor: the Composite request (one call, escaped values, references only where
no visitor value is) and its answer read back; the handler with the in-memory Salesforce."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from pydantic import ValidationError

from bot_actions.domain import lookup
from bot_actions.handlers.actions import BotActions
from chat_contracts.bot import LookupVisitorRequest
from chat_contracts.bot_replies import BotErrorCode
from tests.unit.bot_actions.fakes import FakeSalesforce

CONTACT = "0035g00000XyZabCDE"
OWNER = "0055g00000AbCdEFGH"


def _request(**fields: Any) -> LookupVisitorRequest:
    return LookupVisitorRequest(tenant_id="t1", **fields)


def _urls(body: dict[str, Any]) -> dict[str, str]:
    return {s["referenceId"]: s["url"] for s in body["compositeRequest"]}


def test_the_request_needs_an_email_or_a_phone() -> None:
    with pytest.raises(ValidationError):
        _request()


def test_one_composite_of_five_queries_with_values_escaped_and_encoded() -> None:
    who = lookup.visitor(_request(email=" Jo'@Example.com ", phone="+44 20 7946 0958"))
    assert who is not None
    body = lookup.composite_request(who, "59.0")
    urls = _urls(body)
    assert list(urls) == ["contact", "lead", "contact_cases", "contact_tasks", "lead_tasks"]
    assert body["allOrNone"] is False
    contact = unquote(urls["contact"].split("?q=", 1)[1])
    assert "FROM Contact WHERE (Email = 'jo\\'@example.com' OR Phone IN (" in contact
    assert "'+442079460958','+44 20 7946 0958','020 7946 0958'" in contact
    assert "@" not in urls["contact"].split("?q=", 1)[1]  # no visitor value spells a reference
    lead = unquote(urls["lead"].split("?q=", 1)[1])
    assert "FROM Lead WHERE IsConverted = false AND (" in lead
    assert "@{lead.records[0].Id}" in urls["lead_tasks"]  # the raw reference


def test_blank_values_are_nobody() -> None:
    assert lookup.visitor(_request(email="{!e}", variables={"e": None})) is None


def _answer(contact: dict[str, Any] | None, lead: dict[str, Any] | None) -> dict[str, Any]:
    def query(record: dict[str, Any] | None) -> dict[str, Any]:
        return {"totalSize": int(bool(record)), "done": True, "records": [record] if record else []}

    def count(n: int | None, ref: str) -> dict[str, Any]:
        if n is None:
            halted = [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference"}]
            return {"body": halted, "httpStatusCode": 400, "referenceId": ref}
        return {
            "body": {"totalSize": n, "done": True, "records": []},
            "httpStatusCode": 200,
            "referenceId": ref,
        }

    return {
        "compositeResponse": [
            {"body": query(contact), "httpStatusCode": 200, "referenceId": "contact"},
            {"body": query(lead), "httpStatusCode": 200, "referenceId": "lead"},
            count(2 if contact else None, "contact_cases"),
            count(0 if contact else None, "contact_tasks"),
            count(3 if lead else None, "lead_tasks"),
        ]
    }


async def test_a_contact_wins_with_its_owner_link_and_counts() -> None:
    sf = FakeSalesforce()
    person = {"Id": CONTACT, "Name": "Hank", "OwnerId": OWNER, "Owner": {"Name": "Agent"}}
    sf.composite_answer = _answer(person, {"Id": "00Q5g00000AbCdEFGH", "Name": "Lead"})
    reply = await BotActions(sf).handle(_request(email="hank@globex.example"))
    assert reply.status == "ok"
    assert reply.model_dump(
        include={"object", "record_id", "owner_name", "url", "open_cases", "open_tasks"}
    ) == {
        "object": "Contact",
        "record_id": CONTACT,
        "owner_name": "Agent",
        "url": f"https://acme.my.salesforce.com/lightning/r/Contact/{CONTACT}/view",
        "open_cases": 2,
        "open_tasks": 0,
    }
    assert sf.calls == ["composite"]


async def test_a_lead_when_no_contact_and_not_found_when_nobody() -> None:
    sf = FakeSalesforce()
    sf.composite_answer = _answer(None, {"Id": "00Q5g00000AbCdEFGH", "Name": "Lisa"})
    reply = await BotActions(sf).handle(_request(phone="+1 202 555 0100"))
    assert (reply.status, getattr(reply, "object", None), getattr(reply, "open_tasks", None)) == (
        "ok",
        "Lead",
        3,
    )
    sf.composite_answer = _answer(None, None)
    assert (await BotActions(sf).handle(_request(phone="+1 202 555 0100"))).status == "not_found"
    blank = await BotActions(sf).handle(_request(email="{!e}", variables={"e": ""}))
    assert blank.status == "not_found"
    assert sf.calls == ["composite", "composite"]  # a blank visitor costs no call


async def test_a_failed_person_query_is_a_salesforce_error() -> None:
    sf = FakeSalesforce()
    failed = [{"errorCode": "INVALID_FIELD", "message": "No such column 'MobilePhone'"}]
    sf.composite_answer = {
        "compositeResponse": [{"body": failed, "httpStatusCode": 400, "referenceId": "contact"}]
    }
    reply = await BotActions(sf).handle(_request(email="a@b.example"))
    assert getattr(reply, "code", None) == BotErrorCode.SALESFORCE_ERROR
    assert "INVALID_FIELD" in getattr(reply, "message", "")
