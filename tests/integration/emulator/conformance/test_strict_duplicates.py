"""Conformance: the standard Lead and Contact duplicate rules, on by default.

- [S6] Help, "Standard Contact Matching Rule and Standard Lead Matching Rule": name-based
  (first name and last name, fuzzy) together with email, phone, company or title.
- [S7] Help KB 005237351: a rule runs on update only when a matching field changes.
- [S37] REST API Developer Guide, "Duplicate Rule Header": `allowSave=true` saves despite
  an alert-level rule; it applies to the subrequests of a Composite call too (inferred).
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest

ALLOW = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}


def create(sf: Salesforce, sobject: str, **fields: Any) -> str:
    return str(rest(sf, f"sobjects/{sobject}", method="POST", json=fields)["id"])


def refused(sf: Salesforce, sobject: str, **fields: Any) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, f"sobjects/{sobject}", method="POST", json=fields)
    [error] = error_content(exc.value)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    return dict(error)


def test_rules_are_on_by_default_and_match_on_name_plus_another_field(
    sf_emulator: SalesforceEmulator,
) -> None:
    sf = sf_emulator.client(sf_emulator.create_org())
    first = create(sf, "Lead", FirstName="Jo", LastName="Bloggs", Company="Acme Ltd")
    # Same person by name and company, another email: a duplicate [S6] ...
    error = refused(
        sf, "Lead", FirstName="jo", LastName="BLOGGS", Company="ACME", Email="new@x.example"
    )
    assert (
        error["duplicateResut"]["duplicateRule"] == "Standard_Rule_for_Leads_with_Duplicate_Leads"
    )
    ids = [r["record"]["Id"] for r in error["duplicateResut"]["matchResults"][0]["matchRecords"]]
    assert ids == [first]
    # ... an email alone is not, nor a name alone.
    create(sf, "Lead", LastName="Other", Company="Elsewhere", Email="jo@x.example")
    create(sf, "Lead", LastName="Someone", Company="Else Inc", Email="jo@x.example")
    create(sf, "Lead", FirstName="Jo", LastName="Bloggs", Company="Initech")
    # The header saves despite the alert [S37].
    saved = rest(
        sf,
        "sobjects/Lead",
        method="POST",
        json={"FirstName": "Jo", "LastName": "Bloggs", "Company": "Acme", "Email": "a@b.c"},
        headers=ALLOW,
    )
    assert saved["success"]


def test_contacts_match_on_name_and_email_or_phone(sf_emulator: SalesforceEmulator) -> None:
    sf = sf_emulator.client(sf_emulator.create_org())
    create(sf, "Contact", FirstName="Ann", LastName="Lee", Email="ann@x.example")
    create(sf, "Contact", FirstName="Bob", LastName="Ray", Phone="+1 (202) 555-0143")
    refused(sf, "Contact", FirstName="Ann", LastName="Lee", Email="ANN@x.example")
    refused(sf, "Contact", FirstName="Bob", LastName="Ray", Phone="2025550143")
    create(sf, "Contact", FirstName="Ann", LastName="Lee", Email="other@x.example")


def test_an_update_runs_the_rule_when_any_matching_field_changes(
    sf_emulator: SalesforceEmulator,
) -> None:
    sf = sf_emulator.client(sf_emulator.create_org())
    create(sf, "Lead", FirstName="Kim", LastName="Park", Company="Globex")
    other = create(sf, "Lead", FirstName="Kim", LastName="Park", Company="Hooli")
    sf.restful(f"sobjects/Lead/{other}", method="PATCH", json={"Status": "Working"})  # no key
    with pytest.raises(SalesforceMalformedRequest) as exc:  # [S7]: Company is a match field
        sf.restful(f"sobjects/Lead/{other}", method="PATCH", json={"Company": "Globex"})
    assert error_content(exc.value)[0]["errorCode"] == "DUPLICATES_DETECTED"


def test_block_ignores_the_header_and_off_turns_the_rules_off(
    sf_emulator: SalesforceEmulator,
) -> None:
    blocking = sf_emulator.client(sf_emulator.create_org(duplicate_rules="block"))
    create(blocking, "Lead", FirstName="Al", LastName="Fox", Company="Acme")
    with pytest.raises(SalesforceMalformedRequest):
        rest(
            blocking,
            "sobjects/Lead",
            method="POST",
            json={"FirstName": "Al", "LastName": "Fox", "Company": "Acme"},
            headers=ALLOW,
        )
    off = sf_emulator.client(sf_emulator.create_org(duplicate_rules="off"))
    create(off, "Lead", FirstName="Al", LastName="Fox", Company="Acme")
    create(off, "Lead", FirstName="Al", LastName="Fox", Company="Acme")


def test_composite_subrequests_take_the_callers_duplicate_rule_header(
    sf_emulator: SalesforceEmulator,
) -> None:
    sf = sf_emulator.client(sf_emulator.create_org())
    create(sf, "Lead", FirstName="Di", LastName="Ng", Company="Acme")
    body = {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/composite/sobjects",
                "referenceId": "p",
                "body": {
                    "records": [
                        {
                            "attributes": {"type": "Lead"},
                            "FirstName": "Di",
                            "LastName": "Ng",
                            "Company": "Acme",
                        }
                    ]
                },
            }
        ],
    }
    [entry] = rest(sf, "composite", method="POST", json=body)["compositeResponse"]
    assert entry["body"][0]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"
    [entry] = rest(sf, "composite", method="POST", json=body, headers=ALLOW)["compositeResponse"]
    assert entry["body"][0]["success"] is True
