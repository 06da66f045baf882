"""The handlers through `BotActions.handle`, with the in-memory Salesforce."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot_actions.handlers.actions import BotActions
from chat_contracts.bot import (
    CreateRecordRequest,
    DescribeObjectRequest,
    FindRecordBySoqlRequest,
    FindRecordRequest,
    ListObjectsRequest,
    UpdateIfExists,
)
from chat_contracts.bot_replies import BotErrorCode
from chat_salesforce import NotConnected, RequestLimitExceeded, TokenUnavailable
from tests.unit.bot_actions.fakes import FakeSalesforce


@pytest.fixture
def sf() -> FakeSalesforce:
    fake = FakeSalesforce()
    fake.add("Lead", LastName="Doe", Company="Acme", Email="jo@example.com")
    return fake


def _code(reply: Any) -> str:
    return str(reply.code.value) if reply.status == "error" else str(reply.status)


async def test_create_then_update_if_exists(sf: FakeSalesforce) -> None:
    actions = BotActions(sf)
    request = CreateRecordRequest(
        tenant_id="t1",
        object="Lead",
        fields={"LastName": "{!name}", "Company": "Beta", "Email": "{!email}"},
        variables={"name": "Roe", "email": "ro@example.com"},
        update_if_exists=UpdateIfExists(match_field="Email"),
    )
    created = await actions.handle(request)
    assert created.status == "created"
    again = await actions.handle(
        request.model_copy(update={"variables": {"name": "Roe2", "email": "RO@example.com"}})
    )
    assert again.status == "updated"
    assert getattr(again, "record_id", None) == getattr(created, "record_id", None)
    assert sf.records["Lead"][-1]["LastName"] == "Roe2"


async def test_concurrent_update_if_exists_creates_one_record(sf: FakeSalesforce) -> None:
    actions = BotActions(sf)
    request = CreateRecordRequest(
        tenant_id="t1",
        object="Lead",
        fields={"LastName": "Twin", "Company": "C", "Email": "twin@example.com"},
        update_if_exists=UpdateIfExists(match_field="Email"),
    )
    replies = await asyncio.gather(*(actions.handle(request) for _ in range(5)))
    assert sorted(r.status for r in replies) == [
        "created",
        "updated",
        "updated",
        "updated",
        "updated",
    ]
    assert sum(1 for r in sf.records["Lead"] if r.get("Email") == "twin@example.com") == 1
    assert not actions._matching  # locks are forgotten once idle


async def test_required_fields_are_checked_before_salesforce(sf: FakeSalesforce) -> None:
    reply = await BotActions(sf).handle(
        CreateRecordRequest(tenant_id="t1", object="Lead", fields={"LastName": "x"})
    )
    assert _code(reply) == "required_fields_missing"
    assert getattr(reply, "fields", None) == ("Company",)
    assert sf.calls == ["schema"]


async def test_find_and_not_found(sf: FakeSalesforce) -> None:
    actions = BotActions(sf)
    found = await actions.handle(
        FindRecordRequest(
            tenant_id="t1",
            object="Lead",
            field="Email",
            value="{!Visitor.Email}",
            variables={"Visitor.Email": "JO@example.com"},
            save={"Company": "company"},
        )
    )
    assert found.status == "found"
    assert getattr(found, "variables", None) == {"company": "Acme"}
    missing = await actions.handle(
        FindRecordRequest(tenant_id="t1", object="Lead", field="Email", value="x' OR Email != '")
    )
    assert missing.status == "not_found"


async def test_soql_save_outside_select_is_refused_before_any_call(sf: FakeSalesforce) -> None:
    reply = await BotActions(sf).handle(
        FindRecordBySoqlRequest(
            tenant_id="t1", soql="SELECT Id FROM Lead WHERE Email = 'x'", save={"Company": "c"}
        )
    )
    assert _code(reply) == "validation"
    assert sf.calls == []


async def test_soql_find(sf: FakeSalesforce) -> None:
    reply = await BotActions(sf).handle(
        FindRecordBySoqlRequest(
            tenant_id="t1",
            soql='SELECT Id, Company FROM Lead WHERE Email = "{!Visitor.Email}"',
            variables={"Visitor.Email": "jo@example.com"},
            save={"Company": "company", "Id": "lead_id"},
        )
    )
    assert reply.status == "found"
    assert sf.queries[-1].endswith("ORDER BY CreatedDate ASC, Id ASC LIMIT 1")


async def test_list_and_describe(sf: FakeSalesforce) -> None:
    actions = BotActions(sf)
    listed = await actions.handle(ListObjectsRequest(tenant_id="t1"))
    assert [o.name for o in getattr(listed, "objects", ())] == ["Lead"]
    described = await actions.handle(DescribeObjectRequest(tenant_id="t1", object="lead"))
    assert getattr(described, "object", None) == "Lead"
    unknown = await actions.handle(DescribeObjectRequest(tenant_id="t1", object="Nope"))
    assert _code(unknown) == "unknown_object"


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (NotConnected("t1", "revoked", "gone"), BotErrorCode.NOT_CONNECTED),
        (TokenUnavailable("auth is down"), BotErrorCode.INTERNAL),
        (
            RequestLimitExceeded("REQUEST_LIMIT_EXCEEDED", "spent", status=403),
            BotErrorCode.SALESFORCE_ERROR,
        ),
    ],
)
async def test_access_failures_become_codes(
    sf: FakeSalesforce, failure: Exception, code: BotErrorCode
) -> None:
    sf.failure = failure
    reply = await BotActions(sf).handle(ListObjectsRequest(tenant_id="t1"))
    assert _code(reply) == code.value


async def test_an_unexpected_exception_is_answered_internal(sf: FakeSalesforce) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError

    sf.objects = broken  # type: ignore[method-assign]
    reply = await BotActions(sf).handle(ListObjectsRequest(tenant_id="t1"))
    assert _code(reply) == "internal"
