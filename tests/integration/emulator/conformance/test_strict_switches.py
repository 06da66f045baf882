"""Conformance: behaviours that depend on how an org is set up, each an org switch tested
both ways.

- String length in UTF-16 code units (`string_length_utf16`, off by default): Salesforce
  counts a character outside the Basic Multilingual Plane as two in formulas and the
  String class [S19 Doc]; that DML length checks do the same is inferred.
- Assignment rules (`assignment_rule_owner`, none by default): "If the header is not
  provided with a request, REST API defaults to using the active assignment rules" for
  created or updated Accounts, Cases and Leads; `Sforce-Auto-Assign: FALSE` turns them off
  (REST API Developer Guide, "Assignment Rule Header"; Help KB 000395506: Cases created
  over REST without the header are re-routed).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest

EMOJI = "\U0001f600"  # outside the BMP: one code point, two UTF-16 code units
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


def _lead(company: str) -> dict[str, Any]:
    return {"LastName": "Length", "Company": company}


def test_string_length_counts_code_points_by_default(sf_emulator: SalesforceEmulator) -> None:
    sf = sf_emulator.client(sf_emulator.create_org())
    company = EMOJI * 255  # Lead.Company is 255 long
    created = rest(sf, "sobjects/Lead", method="POST", json=_lead(company))
    assert rest(sf, f"sobjects/Lead/{created['id']}")["Company"] == company


def test_string_length_in_utf16_units_when_the_org_counts_them(
    sf_emulator: SalesforceEmulator,
) -> None:
    sf = sf_emulator.client(sf_emulator.create_org(string_length_utf16=True))
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, "sobjects/Lead", method="POST", json=_lead(EMOJI * 128))  # 256 units
    [error] = error_content(exc.value)
    assert error["errorCode"] == "STRING_TOO_LONG"
    assert "max length=255" in error["message"]
    assert error["fields"] == ["Company"]
    rest(sf, "sobjects/Lead", method="POST", json=_lead(EMOJI * 127 + "x"))  # 255 units


def _org_with_rule(sf_emulator: SalesforceEmulator) -> tuple[Any, str, str]:
    admin = f"admin@{uuid.uuid4().hex[:8]}.example"
    queue = f"queue@{uuid.uuid4().hex[:8]}.example"
    org = sf_emulator.create_org(
        users=[{"username": admin}, {"username": queue}], assignment_rule_owner=queue
    )
    return org, org.user_id, org.users[1]["id"]


def test_without_an_assignment_rule_the_owner_sent_stays(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org()
    sf = sf_emulator.client(org)
    lead = rest(sf, "sobjects/Lead", method="POST", json=_lead("Acme"))["id"]
    assert rest(sf, f"sobjects/Lead/{lead}")["OwnerId"] == org.user_id


def test_an_active_assignment_rule_routes_leads_and_cases_unless_told_not_to(
    sf_emulator: SalesforceEmulator,
) -> None:
    org, me, routed = _org_with_rule(sf_emulator)
    sf = sf_emulator.client(org)
    lead = rest(sf, "sobjects/Lead", method="POST", json={**_lead("Acme"), "OwnerId": me})["id"]
    assert rest(sf, f"sobjects/Lead/{lead}")["OwnerId"] == routed  # no header: rules run
    case = rest(sf, "sobjects/Case", method="POST", json={"Subject": "Help"})["id"]
    assert rest(sf, f"sobjects/Case/{case}")["OwnerId"] == routed
    task = rest(sf, "sobjects/Task", method="POST", json={"Subject": "Call"})["id"]
    assert rest(sf, f"sobjects/Task/{task}")["OwnerId"] == me  # Tasks have no rules

    kept = rest(
        sf,
        "sobjects/Lead",
        method="POST",
        json={**_lead("Acme"), "OwnerId": me},
        headers=NO_AUTO_ASSIGN,
    )["id"]
    assert rest(sf, f"sobjects/Lead/{kept}")["OwnerId"] == me
    # An update runs them too, unless told not to.
    sf.restful(
        f"sobjects/Lead/{kept}", method="PATCH", json={"Company": "Acme 2"}, headers=NO_AUTO_ASSIGN
    )
    assert rest(sf, f"sobjects/Lead/{kept}")["OwnerId"] == me
    sf.restful(f"sobjects/Lead/{kept}", method="PATCH", json={"Company": "Acme 3"})
    assert rest(sf, f"sobjects/Lead/{kept}")["OwnerId"] == routed


def test_the_assignment_header_applies_to_collections_and_composite(
    sf_emulator: SalesforceEmulator,
) -> None:
    org, me, routed = _org_with_rule(sf_emulator)
    sf = sf_emulator.client(org)
    record = {"attributes": {"type": "Lead"}, **_lead("Acme"), "OwnerId": me}
    [plain] = rest(sf, "composite/sobjects", method="POST", json={"records": [record]})
    [told] = rest(
        sf,
        "composite/sobjects",
        method="POST",
        json={"records": [record]},
        headers=NO_AUTO_ASSIGN,
    )
    composite = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"/services/data/v{sf.sf_version}/sobjects/Lead",
                "referenceId": "lead",
                "body": {**_lead("Acme"), "OwnerId": me},
            }
        ]
    }
    answer = rest(sf, "composite", method="POST", json=composite, headers=NO_AUTO_ASSIGN)
    [sub] = answer["compositeResponse"]
    owners = {
        rid: rest(sf, f"sobjects/Lead/{rid}")["OwnerId"]
        for rid in (plain["id"], told["id"], sub["body"]["id"])
    }
    assert owners == {plain["id"]: routed, told["id"]: me, sub["body"]["id"]: me}
