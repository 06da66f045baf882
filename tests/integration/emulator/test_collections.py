"""sObject Collections and Composite, through simple-salesforce's `restful`."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, error_content, rest


def _leads(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "Acme", **extra}
        for i in range(n)
    ]


def _post(sf: Salesforce, records: list[dict[str, Any]], all_or_none: bool = False) -> Any:
    return rest(
        sf, "composite/sobjects", method="POST", json={"allOrNone": all_or_none, "records": records}
    )


def test_create_200_records_in_one_call(sf: Salesforce) -> None:
    results = _post(sf, _leads(200))
    assert len(results) == 200
    assert all(r["success"] and r["errors"] == [] and r["id"].startswith("00Q") for r in results)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        _post(sf, _leads(201))
    assert error_content(exc.value)[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_partial_success_reports_each_record(sf: Salesforce) -> None:
    records = [*_leads(1), {"attributes": {"type": "Lead"}, "LastName": "NoCompany"}, *_leads(1)]
    ok, bad, ok2 = _post(sf, records)
    assert ok["success"]
    assert ok2["success"]
    assert bad == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Company]",
                "fields": ["Company"],
            }
        ],
    }
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_all_or_none_rolls_back(sf: Salesforce) -> None:
    records = [*_leads(2), {"attributes": {"type": "Lead"}, "LastName": "NoCompany"}]
    first, second, bad = _post(sf, records, all_or_none=True)
    assert bad["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    for r in (first, second):
        assert r["success"] is False
        assert r["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_update_retrieve_upsert_and_delete(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(
        custom_fields=[
            {"object": "Contact", "name": "Visitor_Id__c", "external_id": True, "unique": True}
        ]
    )
    sf = sf_emulator.client(org)
    ids = [r["id"] for r in _post(sf, _leads(3))]
    updates = [{"attributes": {"type": "Lead"}, "Id": i, "Phone": "555"} for i in ids]
    assert all(
        r["success"]
        for r in rest(sf, "composite/sobjects", method="PATCH", json={"records": updates})
    )
    got = rest(sf, "composite/sobjects/Lead", params={"ids": ",".join(ids), "fields": "Phone"})
    assert [g["Phone"] for g in got] == ["555"] * 3
    upserts = [
        {"attributes": {"type": "Contact"}, "Visitor_Id__c": v, "LastName": v} for v in ("v1", "v2")
    ]
    first = rest(
        sf,
        "composite/sobjects/Contact/Visitor_Id__c",
        method="PATCH",
        json={"allOrNone": True, "records": upserts},
    )
    again = rest(
        sf,
        "composite/sobjects/Contact/Visitor_Id__c",
        method="PATCH",
        json={"allOrNone": True, "records": upserts},
    )
    assert [r["created"] for r in first] == [True, True]
    assert [r["created"] for r in again] == [False, False]
    assert [r["id"] for r in first] == [r["id"] for r in again]
    deleted = rest(sf, "composite/sobjects", method="DELETE", params={"ids": ",".join(ids)})
    assert all(r["success"] for r in deleted)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_composite_references_and_counts_once(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    sf = sf_emulator.client(sf_org)
    before = sf_emulator.usage(sf_org.org_id)["total"]
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acc",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "con",
                "body": {"LastName": "Roe", "AccountId": "@{acc.id}"},
            },
            {
                "method": "GET",
                "referenceId": "q",
                "url": "/services/data/v59.0/query?q="
                "SELECT+Account.Name+FROM+Contact+WHERE+Id='@{con.id}'",
            },
        ],
    }
    acc, con, q = rest(sf, "composite", method="POST", json=body)["compositeResponse"]
    assert acc["httpStatusCode"] == 201
    assert con["httpStatusCode"] == 201
    assert q["body"]["records"][0]["Account"]["Name"] == "Acme"
    usage = sf_emulator.usage(sf_org.org_id)
    assert usage["total"] == before + 1
    assert usage["by_resource"]["composite"] == 1


def test_composite_all_or_none_halts_and_rolls_back(sf: Salesforce) -> None:
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "x"},
            },
        ],
    }
    ok, bad = rest(sf, "composite", method="POST", json=body)["compositeResponse"]
    assert bad["httpStatusCode"] == 400
    assert bad["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert ok["httpStatusCode"] == 400
    assert ok["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    too_many = {
        "compositeRequest": [
            {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
            for i in range(26)
        ]
    }
    # Over 25: a 200 whose one entry says LIMIT_EXCEEDED (conformance/test_strict_composite.py).
    [entry] = rest(sf, "composite", method="POST", json=too_many)["compositeResponse"]
    assert entry["body"][0]["errorCode"] == "LIMIT_EXCEEDED"
