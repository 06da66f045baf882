"""Conformance: where Composite and sObject Collections are as strict as Salesforce.

Each test names its source in `../shared/notes`-style brackets, as listed in the
emulator's README ("Strict behaviours"):

- [S1] REST API Developer Guide, "Create Records Using sObject Collections": a
  `DUPLICATES_DETECTED` record result is `{"statusCode", "message", "fields"}` only.
- [S2]/[S8] real single-record answers spell the key `duplicateResut` and carry no `fields`.
- [S3] "A single request can process up to 10 chunks" (a chunk: consecutive records of one
  type); the Apex message is "Cannot have more than 10 chunks in a single operation".
- [S14] Composite: up to 5 subrequests may be sObject Collections or query operations.
- [S15] Composite: lock errors are per subrequest / record inside an HTTP 200.
- [S16] Composite: a reference to a null value is `PROCESSING_HALTED` "Invalid reference
  specified. No value for X found in Y".
- [S20] Composite with more than 25 subrequests: HTTP 200, `LIMIT_EXCEEDED` in the body.
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest

BASE = "/services/data/v59.0"


def lead(n: int, **extra: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "LastName": f"L{n}", "Company": "Acme", **extra}


def contact(n: int, **extra: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact"}, "LastName": f"C{n}", **extra}


def collections(sf: Salesforce, records: list[dict[str, Any]], method: str = "POST") -> Any:
    return rest(
        sf, "composite/sobjects", method=method, json={"allOrNone": False, "records": records}
    )


def composite(sf: Salesforce, subs: list[dict[str, Any]]) -> Any:
    return rest(sf, "composite", method="POST", json={"allOrNone": False, "compositeRequest": subs})


def test_collections_duplicates_carry_no_match_ids(sf_emulator: SalesforceEmulator) -> None:
    sf = sf_emulator.client(sf_emulator.create_org(duplicate_rules="alert"))
    person = {"FirstName": "Dee", "LastName": "Doe", "Email": "dup@example.com"}
    collections(sf, [lead(1, **person)])
    [result] = collections(sf, [lead(2, **person)])  # [S1]
    assert result == {
        "success": False,
        "errors": [
            {
                "statusCode": "DUPLICATES_DETECTED",
                "message": "Use one of these records?",
                "fields": [],
            }
        ],
    }


def test_a_single_record_duplicate_spells_duplicate_resut(sf_emulator: SalesforceEmulator) -> None:
    sf = sf_emulator.client(sf_emulator.create_org(duplicate_rules="alert"))
    person = {"FirstName": "Dee", "LastName": "Doe", "Email": "d@example.com"}
    first = rest(sf, "sobjects/Lead", method="POST", json=lead(1, **person))["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        rest(sf, "sobjects/Lead", method="POST", json=lead(2, **person))
    [error] = error_content(exc.value)  # [S2], [S8]
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert "fields" not in error
    assert "duplicateResult" not in error
    records = error["duplicateResut"]["matchResults"][0]["matchRecords"]
    assert records[0]["record"]["Id"] == first


def test_collections_refuse_more_than_ten_type_chunks(sf: Salesforce) -> None:
    alternating = [lead(i) if i % 2 == 0 else contact(i) for i in range(11)]  # 11 chunks
    with pytest.raises(SalesforceMalformedRequest) as exc:
        collections(sf, alternating)  # [S3]
    [error] = error_content(exc.value)
    assert "more than 10 chunks" in error["message"]
    grouped = sorted(alternating + alternating, key=lambda r: str(r["attributes"]["type"]))
    assert all(r["success"] for r in collections(sf, grouped))  # 2 chunks
    ten = [lead(i) if i % 2 == 0 else contact(i) for i in range(10)]
    assert all(r["success"] for r in collections(sf, ten))


def test_composite_counts_collections_and_queries_toward_five(sf: Salesforce) -> None:
    subs = [
        {
            "method": "POST",
            "url": f"{BASE}/composite/sobjects",
            "referenceId": f"c{i}",
            "body": {"records": [lead(i)]},
        }
        for i in range(3)
    ] + [
        {"method": "GET", "url": f"{BASE}/query?q=SELECT+Id+FROM+Lead", "referenceId": f"q{i}"}
        for i in range(3)
    ]
    answer = composite(sf, subs)  # [S14]: 6 > 5
    [entry] = answer["compositeResponse"]
    assert entry["httpStatusCode"] == 400
    assert entry["body"][0]["errorCode"] == "LIMIT_EXCEEDED"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert len(composite(sf, subs[:5])["compositeResponse"]) == 5


def test_composite_over_25_is_a_200_with_limit_exceeded(sf: Salesforce) -> None:
    subs = [
        {"method": "GET", "url": f"{BASE}/sobjects/Lead/describe", "referenceId": f"d{i}"}
        for i in range(26)
    ]
    answer = composite(sf, subs)  # [S20]
    assert answer == {
        "compositeResponse": [
            {
                "body": [
                    {
                        "errorCode": "LIMIT_EXCEEDED",
                        "message": "The request can\u2019t contain more than 25 operations.",
                    }
                ],
                "httpHeaders": {},
                "httpStatusCode": 400,
                "referenceId": None,
            }
        ]
    }


def test_composite_lock_errors_are_per_record_inside_a_200(
    sf_emulator: SalesforceEmulator,
) -> None:
    org = sf_emulator.create_org()
    sf = sf_emulator.client(org)
    sf_emulator.set_faults(org.org_id, lock_row_rate=1.0, seed=1)
    subs: list[dict[str, Any]] = [
        {"method": "GET", "url": f"{BASE}/query?q=SELECT+Id+FROM+Lead", "referenceId": "q"},
        {
            "method": "POST",
            "url": f"{BASE}/composite/sobjects",
            "referenceId": "c",
            "body": {"records": [lead(1), lead(2)]},
        },
        {"method": "POST", "url": f"{BASE}/sobjects/Lead", "referenceId": "one", "body": lead(3)},
    ]
    query, many, one = composite(sf, subs)["compositeResponse"]  # [S15]
    assert query["httpStatusCode"] == 200
    assert many["httpStatusCode"] == 200
    assert [r["errors"][0]["statusCode"] for r in many["body"]] == ["UNABLE_TO_LOCK_ROW"] * 2
    assert one["httpStatusCode"] == 400
    assert one["body"][0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    sf_emulator.set_faults(org.org_id)


def test_a_reference_to_a_null_value_halts(sf: Salesforce) -> None:
    subs: list[dict[str, Any]] = [
        {"method": "POST", "url": f"{BASE}/sobjects/Lead", "referenceId": "l", "body": lead(1)},
        {"method": "GET", "url": f"{BASE}/sobjects/Lead/@{{l.id}}", "referenceId": "got"},
        {
            "method": "POST",
            "url": f"{BASE}/sobjects/Lead",
            "referenceId": "copy",
            "body": lead(2, Phone="@{got.Phone}"),  # Phone is null
        },
    ]
    _, _, copy = composite(sf, subs)["compositeResponse"]  # [S16]
    assert copy["httpStatusCode"] == 400
    assert copy["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert copy["body"][0]["message"] == (
        "Invalid reference specified. No value for got.Phone found in copy."
    )
