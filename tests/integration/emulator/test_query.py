"""SOQL over HTTP: results, relationships, paging with nextRecordsUrl, errors."""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, error_content, rest, sobject


def _create_leads(sf: Salesforce, n: int, prefix: str = "p") -> list[str]:
    ids: list[str] = []
    for start in range(0, n, 200):
        records = [
            {
                "attributes": {"type": "Lead"},
                "LastName": f"{prefix}{i:04d}",
                "Company": "Acme",
                "Email": f"{prefix}{i}@example.com",
            }
            for i in range(start, min(start + 200, n))
        ]
        results = rest(
            sf, "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
        ids += [r["id"] for r in results]
    return ids


def _error(exc: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> dict[str, Any]:
    return dict(error_content(exc.value)[0])


def test_query_shape_and_case_insensitive_equality(sf: Salesforce) -> None:
    new_id = sobject(sf, "Lead").create(
        {"LastName": "Doe", "Company": "Acme", "Email": "Jane@Example.com"}
    )["id"]
    result = sf.query("SELECT Id, email FROM Lead WHERE Email = 'jane@example.COM'")
    assert result == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {
                    "type": "Lead",
                    "url": f"/services/data/v59.0/sobjects/Lead/{new_id}",
                },
                "Id": new_id,
                "Email": "Jane@Example.com",
            }
        ],
    }


def test_relationship_fields_come_back_nested(sf: Salesforce, sf_org: EmulatorOrg) -> None:
    account = sobject(sf, "Account").create({"Name": "Acme"})["id"]
    contact = sobject(sf, "Contact").create({"LastName": "Roe", "AccountId": account})["id"]
    sobject(sf, "Task").create({"Subject": "Chat", "WhoId": contact})
    sobject(sf, "Task").create({"Subject": "Orphan"})
    rows = sf.query("SELECT Subject, Who.Name, Who.Type, Owner.Email FROM Task ORDER BY Subject")
    chat, orphan = rows["records"]
    assert chat["Who"]["attributes"]["type"] == "Name"
    assert chat["Who"]["Name"] == "Roe"
    assert chat["Who"]["Type"] == "Contact"
    assert chat["Owner"]["Email"] == sf_org.username
    assert orphan["Who"] is None
    deep = sf.query(f"SELECT Account.Name FROM Contact WHERE Id = '{contact}'")["records"][0]
    assert deep["Account"]["Name"] == "Acme"
    by_parent = sf.query("SELECT Id FROM Contact WHERE Account.Name = 'ACME'")
    assert by_parent["totalSize"] == 1


def test_query_all_pages_with_next_records_url(sf: Salesforce) -> None:
    _create_leads(sf, 450)
    options = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id, LastName FROM Lead ORDER BY LastName", headers=options)
    assert first["totalSize"] == 450
    assert first["done"] is False
    assert len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/0r8")
    assert first["nextRecordsUrl"].endswith("-200")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["records"][0]["LastName"] == "p0200"
    every = sf.query_all("SELECT Id, LastName FROM Lead ORDER BY LastName", headers=options)
    assert every["totalSize"] == 450
    assert len(every["records"]) == 450
    assert [r["LastName"] for r in every["records"]] == [f"p{i:04d}" for i in range(450)]
    default = sf.query("SELECT Id FROM Lead")
    assert default["done"] is True
    assert len(default["records"]) == 450


def test_count_order_limit_offset(sf: Salesforce) -> None:
    _create_leads(sf, 30)
    assert sf.query("SELECT COUNT() FROM Lead") == {"totalSize": 30, "done": True, "records": []}
    rows = sf.query("SELECT LastName FROM Lead ORDER BY LastName DESC LIMIT 3 OFFSET 2")
    assert [r["LastName"] for r in rows["records"]] == ["p0027", "p0026", "p0025"]


def test_in_query_matches_a_batch_of_emails(sf: Salesforce) -> None:
    _create_leads(sf, 50)
    emails = [f"P{i}@EXAMPLE.com" for i in range(0, 50, 5)] + ["nobody@example.com"]
    rows = sf.query(format_soql("SELECT Email FROM Lead WHERE Email IN {}", emails))
    assert rows["totalSize"] == 10


def test_injection_looking_values_stay_inside_the_literal(sf: Salesforce) -> None:
    leads = sobject(sf, "Lead")
    leads.create({"LastName": "Doe", "Company": "Acme", "Email": "a@example.com"})
    hostile = "x' OR Email != '"
    rows = sf.query(format_soql("SELECT Id FROM Lead WHERE Email = {}", hostile))
    assert rows["totalSize"] == 0
    leads.create({"LastName": 'O\'Brien \\ "q"', "Company": "Acme"})
    found = sf.query(
        format_soql("SELECT LastName FROM Lead WHERE LastName = {}", 'o\'brien \\ "Q"')
    )
    assert found["records"][0]["LastName"] == 'O\'Brien \\ "q"'
    like = sf.query(format_soql("SELECT Id FROM Lead WHERE LastName LIKE '{:like}%'", "O'B"))
    assert like["totalSize"] == 1


@pytest.mark.parametrize(
    ("soql", "code", "fragment"),
    [
        ("SELECT Id, Foo FROM Lead", "INVALID_FIELD", "No such column 'Foo' on entity 'Lead'"),
        ("SELECT Id FROM Widget", "INVALID_TYPE", "sObject type 'Widget' is not supported"),
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ('SELECT Id FROM Lead WHERE Email = "x"', "MALFORMED_QUERY", "ERROR at Row:1:Column:"),
        (
            "SELECT Id FROM Lead WHERE Email = 'a\\x'",
            "MALFORMED_QUERY",
            "Illegal character sequence",
        ),
        (
            "SELECT Id FROM Lead WHERE IsConverted = 'true'",
            "INVALID_FIELD",
            "must be of type boolean",
        ),
        ("SELECT Id FROM Lead WHERE Email = 5", "INVALID_FIELD", "must be of type string"),
        ("SELECT Id FROM Lead WHERE Description = 'x'", "INVALID_FIELD", "can not be filtered"),
        (
            "SELECT Id FROM Lead WHERE Id = 'abc'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field",
        ),
        ("SELECT Bogus.Name FROM Lead", "INVALID_FIELD", "Didn't understand relationship 'Bogus'"),
    ],
)
def test_query_errors(sf: Salesforce, soql: str, code: str, fragment: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)
    assert exc.value.status == 400
    assert _error(exc)["errorCode"] == code
    assert fragment in _error(exc)["message"]


def test_query_all_includes_deleted_records(sf: Salesforce) -> None:
    leads = sobject(sf, "Lead")
    gone = leads.create({"LastName": "Gone", "Company": "Acme"})["id"]
    leads.delete(gone)
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Lead", include_deleted=True)
    assert deleted["records"][0]["IsDeleted"] is True


def test_bad_locator_and_organization(sf: Salesforce, sf_emulator: SalesforceEmulator) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more("0r8000000000000AAA-200")
    assert _error(exc)["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert sf.is_sandbox() is False
    sandbox = sf_emulator.create_org(sandbox=True)
    assert sf_emulator.client(sandbox).is_sandbox() is True
