"""Conformance: Campaigns, their members, and the Account fields company matching reads.

- [C1] Object Reference, CampaignMember: "must contain either a ContactId or a LeadId";
  `HasResponded` is read-only and follows `Status`; `CampaignId`, `LeadId` and `ContactId`
  are set on create only (Doc).
- [C2] A second membership of one person in one campaign: `DUPLICATE_VALUE` "Already a
  campaign member." (openstax/tutor-server PR #1653 quotes the error as Salesforce
  returned it; a public Go client's test fixture has the same body, with no `fields`).
  Obs; that the error has an empty `fields` is inferred.
- [C3] Object Reference, Account: `Website`, `Phone`, `Industry`, `Type`,
  `AccountNumber`, `Description`, `BillingCity`; Contact `AccountId`, and `Account.Name`
  as a relationship path in SELECT and WHERE (Doc).

Every test names its records uniquely, so that against a real org it only ever sees its
own.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest

ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def _create(sf: Salesforce, sobject: str, body: dict[str, Any]) -> str:
    created = rest(sf, f"sobjects/{sobject}", method="POST", json=body, headers=ALLOW_SAVE)
    return str(created["id"])


def _people(sf: Salesforce) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    lead = _create(
        sf, "Lead", {"LastName": f"Lead{tag}", "Company": f"Co {tag}", "Email": f"l{tag}@x.test"}
    )
    contact = _create(sf, "Contact", {"LastName": f"Contact{tag}", "Email": f"c{tag}@x.test"})
    return lead, contact


def test_a_person_is_a_member_of_a_campaign_once(sf_emulator: SalesforceEmulator) -> None:
    # [C2]: DUPLICATE_VALUE "Already a campaign member."; per record in Collections.
    sf = sf_emulator.client(sf_emulator.create_org())
    campaign = _create(sf, "Campaign", {"Name": _unique("utm spring"), "IsActive": True})
    lead, contact = _people(sf)
    _create(sf, "CampaignMember", {"CampaignId": campaign, "LeadId": lead})
    _create(sf, "CampaignMember", {"CampaignId": campaign, "ContactId": contact})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        _create(sf, "CampaignMember", {"CampaignId": campaign, "LeadId": lead})
    [error] = error_content(exc.value)
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert error["message"] == "Already a campaign member."
    again = [
        {"attributes": {"type": "CampaignMember"}, "CampaignId": campaign, "ContactId": contact},
        {"attributes": {"type": "CampaignMember"}, "CampaignId": campaign, "LeadId": lead},
    ]
    results = rest(
        sf, "composite/sobjects", method="POST", json={"allOrNone": False, "records": again}
    )
    assert [r["success"] for r in results] == [False, False]
    assert {r["errors"][0]["statusCode"] for r in results} == {"DUPLICATE_VALUE"}


def test_two_members_of_one_request_collide(sf_emulator: SalesforceEmulator) -> None:
    # [C2]: records of one Collections request are saved in order, so the second is the
    # duplicate of the first.
    sf = sf_emulator.client(sf_emulator.create_org())
    campaign = _create(sf, "Campaign", {"Name": _unique("utm twins")})
    _, contact = _people(sf)
    twins = [
        {"attributes": {"type": "CampaignMember"}, "CampaignId": campaign, "ContactId": contact}
    ] * 2
    first, second = rest(
        sf, "composite/sobjects", method="POST", json={"allOrNone": False, "records": twins}
    )
    assert first["success"] is True
    assert second["errors"][0]["statusCode"] == "DUPLICATE_VALUE"


def test_members_are_found_by_campaign_and_person(sf_emulator: SalesforceEmulator) -> None:
    # [C1]: the query crm-sync sends before adding members; HasResponded follows Status.
    sf = sf_emulator.client(sf_emulator.create_org())
    name = _unique("utm summer")
    campaign = _create(sf, "Campaign", {"Name": name, "IsActive": True, "Status": "Planned"})
    lead, contact = _people(sf)
    _create(sf, "CampaignMember", {"CampaignId": campaign, "LeadId": lead, "Status": "Sent"})
    _create(
        sf, "CampaignMember", {"CampaignId": campaign, "ContactId": contact, "Status": "Responded"}
    )
    found = rest(
        sf, "query", params={"q": format_soql("SELECT Id FROM Campaign WHERE Name = {}", name)}
    )
    assert [r["Id"] for r in found["records"]] == [campaign]
    soql = format_soql(
        "SELECT LeadId, ContactId, Status, HasResponded FROM CampaignMember "
        "WHERE CampaignId = {} AND (LeadId IN {} OR ContactId IN {})",
        campaign,
        [lead],
        [contact],
    )
    rows = rest(sf, "query", params={"q": soql})["records"]
    # Sorted here: Salesforce orders a picklist by its values' order, not alphabetically.
    assert sorted((r["Status"], r["LeadId"], r["ContactId"], r["HasResponded"]) for r in rows) == [
        ("Responded", None, contact, True),
        ("Sent", lead, None, False),
    ]


def test_a_member_names_a_lead_or_a_contact(sf_emulator: SalesforceEmulator) -> None:
    # [C1]: neither is refused (the error code is inferred); CampaignId is create-only.
    sf = sf_emulator.client(sf_emulator.create_org())
    campaign = _create(sf, "Campaign", {"Name": _unique("utm nobody")})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        _create(sf, "CampaignMember", {"CampaignId": campaign})
    [error] = error_content(exc.value)
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    fields = {f["name"]: f for f in rest(sf, "sobjects/CampaignMember/describe")["fields"]}
    assert fields["CampaignId"]["updateable"] is False
    assert fields["HasResponded"]["createable"] is False


def test_a_contact_of_an_account_is_found_by_the_account_name(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [C3]
    sf = sf_emulator.client(sf_emulator.create_org())
    name = _unique("Globex")
    account = _create(
        sf,
        "Account",
        {
            "Name": name,
            "Website": "https://globex.example",
            "Phone": "+1 555 0100",
            "Industry": "Technology",
            "Type": "Customer - Direct",
            "AccountNumber": "G-1",
            "Description": "matched by company name",
            "BillingCity": "Springfield",
        },
    )
    contact = _create(sf, "Contact", {"LastName": _unique("Hank"), "AccountId": account})
    soql = format_soql(
        "SELECT Id, Account.Name, Account.Website FROM Contact WHERE Account.Name = {}", name
    )
    [row] = rest(sf, "query", params={"q": soql})["records"]
    assert row["Id"] == contact
    assert row["Account"]["Name"] == name
    assert row["Account"]["Website"] == "https://globex.example"
