"""Conformance: values Salesforce refuses on write.

- [S11] `DUPLICATE_VALUE` "duplicate value found: <F> duplicates value on record with id:
  <Id>" on a unique (or unique external id) field; the wording is from public client
  fixtures (lower confidence).
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest

UNIQUE = [{"object": "Task", "name": "Chat_Id__c", "external_id": True, "unique": True}]


def task(**fields: Any) -> dict[str, Any]:
    return {"Subject": "Chat", **fields}


def test_a_unique_field_refuses_a_value_another_record_has(
    sf_emulator: SalesforceEmulator,
) -> None:
    sf = sf_emulator.client(sf_emulator.create_org(custom_fields=UNIQUE))
    first = rest(sf, "sobjects/Task", method="POST", json=task(Chat_Id__c="chat:t:1"))["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, "sobjects/Task", method="POST", json=task(Chat_Id__c="CHAT:t:1"))
    [error] = error_content(exc.value)
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["message"] == (
        f"duplicate value found: Chat_Id__c duplicates value on record with id: {first}"
    )
    assert error["fields"] == ["Chat_Id__c"]
    other = rest(sf, "sobjects/Task", method="POST", json=task(Chat_Id__c="chat:t:2"))["id"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(f"sobjects/Task/{other}", method="PATCH", json={"Chat_Id__c": "chat:t:1"})
    sf.restful(f"sobjects/Task/{first}", method="PATCH", json={"Chat_Id__c": "chat:t:1"})
    # In sObject Collections, per record; and two records of one request collide too.
    body = {"records": [{"attributes": {"type": "Task"}, **task(Chat_Id__c="chat:t:3")}] * 2}
    ok, twin = rest(sf, "composite/sobjects", method="POST", json=body)
    assert ok["success"] is True
    assert twin["errors"][0]["statusCode"] == "DUPLICATE_VALUE"


def test_nothing_may_reference_a_converted_lead_and_conversion_moves_its_tasks(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [S9]: "cannot reference converted lead"; [S10]: activities move to the Contact.
    org = sf_emulator.create_org()
    sf = sf_emulator.client(org)
    lead = rest(sf, "sobjects/Lead", method="POST", json={"LastName": "L", "Company": "C"})["id"]
    before = rest(sf, "sobjects/Task", method="POST", json=task(WhoId=lead))["id"]
    converted = sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/leads/{lead}/convert")
    contact = converted.json()["contactId"]
    assert rest(sf, f"sobjects/Task/{before}")["WhoId"] == contact
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, "sobjects/Task", method="POST", json=task(WhoId=lead))
    [error] = error_content(exc.value)
    assert error["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert error["message"] == "cannot reference converted lead"


def test_an_inactive_user_cannot_own_a_record(sf_emulator: SalesforceEmulator) -> None:
    # [S18]: INACTIVE_OWNER_OR_USER.
    org = sf_emulator.create_org(
        users=[
            {"username": f"admin-{id(sf_emulator)}@x.example"},
            {"username": f"gone-{id(sf_emulator)}@x.example", "active": False},
        ]
    )
    sf = sf_emulator.client(org)
    gone = org.users[1]["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(
            sf,
            "sobjects/Lead",
            method="POST",
            json={"LastName": "L", "Company": "C", "OwnerId": gone},
        )
    [error] = error_content(exc.value)
    assert error["errorCode"] == "INACTIVE_OWNER_OR_USER"
    assert error["fields"] == ["OwnerId"]


def test_a_task_on_a_lead_has_no_what(sf: Any) -> None:
    # [S17]: "If the WhoId refers to a lead, then the WhatId field must be empty".
    lead = rest(sf, "sobjects/Lead", method="POST", json={"LastName": "L", "Company": "C"})["id"]
    account = rest(sf, "sobjects/Account", method="POST", json={"Name": "A"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, "sobjects/Task", method="POST", json=task(WhoId=lead, WhatId=account))
    [error] = error_content(exc.value)
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert sorted(error["fields"]) == ["WhatId", "WhoId"]


def test_a_restricted_picklist_refuses_other_values_and_says_so_in_describe(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [S12]: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST; describe's `restrictedPicklist`.
    fields = [
        {
            "object": "Lead",
            "name": "Tier__c",
            "type": "picklist",
            "picklist": ["Gold", "Silver"],
            "restricted": True,
        },
        {"object": "Lead", "name": "Mood__c", "type": "picklist", "picklist": ["Happy"]},
    ]
    sf = sf_emulator.client(sf_emulator.create_org(custom_fields=fields))
    described = {f["name"]: f for f in rest(sf, "sobjects/Lead/describe")["fields"]}
    assert described["Tier__c"]["restrictedPicklist"] is True
    assert described["Mood__c"]["restrictedPicklist"] is False
    lead = {"LastName": "L", "Company": "C"}
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, "sobjects/Lead", method="POST", json={**lead, "Tier__c": "Platinum"})
    [error] = error_content(exc.value)
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error["fields"] == ["Tier__c"]
    assert rest(sf, "sobjects/Lead", method="POST", json={**lead, "Tier__c": "Gold"})["success"]
    assert rest(sf, "sobjects/Lead", method="POST", json={**lead, "Mood__c": "Grumpy"})["success"]


def test_retired_api_versions_are_gone_and_current_ones_answer(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [S23]: v21-30 retired in Summer '25 answer 410 GONE; versions up to v66 exist.
    org = sf_emulator.create_org()
    auth = {"Authorization": f"Bearer {org.access_token}"}

    def status(version: str) -> int:
        url = f"{org.instance_url}/services/data/v{version}/limits"
        return sf_emulator.admin.get(url, headers=auth).status_code

    assert status("30.0") == 410
    assert status("21.0") == 410
    assert status("31.0") == 200
    assert status("66.0") == 200
    assert status("99.0") == 404
    listed = sf_emulator.admin.get(f"{org.instance_url}/services/data/").json()
    assert listed[0]["version"] == "31.0"
    assert listed[-1]["version"] == "66.0"
