"""Conformance: SOQL as Salesforce's query resource answers it.

- [S21] Help KB 000386264: a page "can be smaller" than the batch size when the rows are
  wide (several fields, long text areas).
- [S22] Developer Limits, "SOQL and SOSL Limits": statements of at most 100,000
  characters; at most 4,000 characters for each string in a WHERE clause.
- [S24] SOQL Reference, ORDER BY: "By default, null values are sorted first." (for DESC
  the default is inferred: an org switch).
- [S25] SOQL Reference, "Use null in WHERE": a boolean `= null` is `= false`, `!= null`
  is `= true`.
- [S13] Object Reference, ContentDocumentLink: a query needs a filter on Id,
  LinkedEntityId or ContentDocumentId (the error text is a captured platform message).
- [S29] Developer Limits, "API Query Cursor Limits": no cap on open cursors since v56,
  results kept 2 days; KB 000384958: locators start with `0r8`.
- [S30] SOQL Reference, "Quoted String Escape Sequences": `\\N \\R \\T \\B \\F` as well.
- [S31] SOQL Reference, "Date Formats and Date Literals": datetimes end in `Z`, `+hh:mm`
  or `-hh:mm` (whether more is accepted is inferred: an org switch).
"""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

import uuid
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest, sobject


def _leads(sf: Salesforce, rows: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(rows), 200):
        records = [
            {"attributes": {"type": "Lead"}, "Company": "Acme", **r}
            for r in rows[start : start + 200]
        ]
        results = rest(
            sf, "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
        ids += [r["id"] for r in results]
    return ids


def _refused(sf: Salesforce, soql: str) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)
    return dict(error_content(exc.value)[0])


def test_wide_rows_come_in_smaller_pages(sf: Salesforce) -> None:
    """[S21]: a page can hold fewer rows than the batch size; paging stays whole."""
    ids = _leads(sf, [{"LastName": f"w{i:02d}", "Description": "x" * 30_000} for i in range(40)])
    first = sf.query("SELECT Id, Description FROM Lead ORDER BY LastName")
    assert first["totalSize"] == 40
    assert first["done"] is False
    assert 0 < len(first["records"]) < 40
    assert first["nextRecordsUrl"].endswith(f"-{len(first['records'])}")
    seen = [r["Id"] for r in first["records"]]
    page = first
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        assert page["totalSize"] == 40
        seen += [r["Id"] for r in page["records"]]
    assert seen == ids
    narrow = sf.query("SELECT Id, LastName FROM Lead")
    assert narrow["done"] is True
    assert len(narrow["records"]) == 40


def test_soql_over_100000_characters_is_refused(sf: Salesforce) -> None:
    """[S22]: a statement is at most 100,000 characters. Sent in a Composite body, as the
    16,384-byte URI limit keeps such a query out of a GET."""
    emails = ", ".join(f"'lead{i:06d}@example.com'" for i in range(4_000))
    soql = f"SELECT Id FROM Lead WHERE Email IN ({emails})"
    assert len(soql) > 100_000
    answer = rest(
        sf,
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {"method": "GET", "url": "/services/data/v59.0/query?q=" + soql, "referenceId": "q"}
            ]
        },
    )
    sub = answer["compositeResponse"][0]
    assert sub["httpStatusCode"] == 400
    assert sub["body"][0] == {
        "errorCode": "MALFORMED_QUERY",
        "message": "SOQL statements can not be longer than 100000 characters",
    }


def test_a_where_string_over_4000_characters_is_refused(sf: Salesforce) -> None:
    """[S22]: each string in a WHERE clause is at most 4,000 characters."""
    assert sf.query(f"SELECT Id FROM Lead WHERE LastName = '{'a' * 4000}'")["totalSize"] == 0
    error = _refused(sf, f"SELECT Id FROM Lead WHERE LastName = '{'a' * 4001}'")
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "4000" in error["message"]
    like = _refused(sf, f"SELECT Id FROM Lead WHERE LastName LIKE '{'a' * 4001}%'")
    assert like["errorCode"] == "MALFORMED_QUERY"


def test_nulls_sort_first_ascending_and_desc_follows_the_org_switch(
    sf_emulator: SalesforceEmulator,
) -> None:
    """[S24]: nulls first by default. For DESC the default is inferred: NULLS LAST unless
    the org sets `soql_desc_nulls_first`."""
    for switch, desc_expected in ((False, ["b", "a", None]), (True, [None, "b", "a"])):
        org = sf_emulator.create_org(soql_desc_nulls_first=switch)
        sf = sf_emulator.client(org)
        _leads(sf, [{"LastName": "x", "Title": t} for t in ("a", None, "b")])
        asc = sf.query("SELECT Title FROM Lead ORDER BY Title")
        assert [r["Title"] for r in asc["records"]] == [None, "a", "b"]
        desc = sf.query("SELECT Title FROM Lead ORDER BY Title DESC")
        assert [r["Title"] for r in desc["records"]] == desc_expected
        last = sf.query("SELECT Title FROM Lead ORDER BY Title DESC NULLS LAST")
        assert [r["Title"] for r in last["records"]] == ["b", "a", None]


def test_boolean_null_means_false(sf_emulator: SalesforceEmulator) -> None:
    """[S25]: `B = null` is `B = false` and `B != null` is `B = true`."""
    org = sf_emulator.create_org(
        custom_fields=[{"object": "Lead", "name": "Vip__c", "type": "boolean"}]
    )
    sf = sf_emulator.client(org)
    vip, plain = _leads(sf, [{"LastName": "v", "Vip__c": True}, {"LastName": "p"}])
    nulls = sf.query("SELECT Id FROM Lead WHERE Vip__c = null")
    assert [r["Id"] for r in nulls["records"]] == [plain]
    not_null = sf.query("SELECT Id FROM Lead WHERE Vip__c != null")
    assert [r["Id"] for r in not_null["records"]] == [vip]
    within = sf.query("SELECT Id FROM Lead WHERE Vip__c IN (null)")
    assert [r["Id"] for r in within["records"]] == [plain]


def test_content_document_link_needs_a_filter(sf: Salesforce) -> None:
    """[S13]: ContentDocumentLink is queried by Id, LinkedEntityId or ContentDocumentId."""
    lead = sobject(sf, "Lead").create({"LastName": "Doe", "Company": "Acme"})["id"]
    sobject(sf, "ContentVersion").create(
        {"PathOnClient": "a.txt", "VersionData": "aGVsbG8=", "FirstPublishLocationId": lead}
    )
    for soql in (
        "SELECT Id FROM ContentDocumentLink",
        "SELECT Id FROM ContentDocumentLink WHERE ShareType = 'I'",
        f"SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId != '{lead}'",
        f"SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '{lead}' OR ShareType = 'V'",
        "SELECT COUNT() FROM ContentDocumentLink",
    ):
        error = _refused(sf, soql)
        assert error["errorCode"] == "MALFORMED_QUERY", soql
        assert error["message"] == (
            "Implementation restriction: ContentDocumentLink requires a filter by a single "
            "Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple "
            "Id's using the IN operator."
        )
    links = "SELECT Id, ContentDocumentId FROM ContentDocumentLink WHERE"
    row = sf.query(f"{links} LinkedEntityId = '{lead}'")["records"][0]
    by_doc = f"ContentDocumentId IN ('{row['ContentDocumentId']}') AND ShareType = 'I'"
    assert sf.query(f"{links} {by_doc}")["totalSize"] == 1
    assert sf.query(f"{links} Id = '{row['Id']}'")["totalSize"] == 1


def test_cursors_are_0r8_locators_without_a_cap(sf: Salesforce) -> None:
    """[S29]: locators start with 0r8, and opening more cursors closes none."""
    mark = f"cur{uuid.uuid4().hex[:8]}"  # its own Leads only, in an org that has others
    _leads(sf, [{"LastName": f"{mark}{i:03d}"} for i in range(201)])
    options = {"Sforce-Query-Options": "batchSize=200"}
    soql = f"SELECT Id FROM Lead WHERE LastName LIKE '{mark}%'"
    first = sf.query(soql, headers=options)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/0r8")
    for _ in range(1_000):  # the emulator used to keep 1,000 and drop the oldest
        sf.query(soql, headers=options)
    rest_of_it = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(rest_of_it["records"]) == 1


@pytest.mark.parametrize("escape", ["\\N", "\\R", "\\T", "\\B", "\\F"])
def test_upper_case_escapes_are_valid(sf: Salesforce, escape: str) -> None:
    """[S30]: `\\n or \\N`, `\\r or \\R`, ... are the same escape."""
    control = {"\\N": "\n", "\\R": "\r", "\\T": "\t", "\\B": "\b", "\\F": "\f"}[escape]
    sobject(sf, "Lead").create({"LastName": f"a{control}b", "Company": "Acme"})
    rows = sf.query(f"SELECT LastName FROM Lead WHERE LastName = 'a{escape}b'")
    assert [r["LastName"] for r in rows["records"]] == [f"a{control}b"]


def test_datetime_literal_forms_follow_the_org_switch(sf_emulator: SalesforceEmulator) -> None:
    """[S31]: `Z`, `+hh:mm`, `-hh:mm` always; `.SSS` and `+hhmm` unless the org sets
    `soql_strict_datetimes` (what else Salesforce accepts is inferred)."""
    documented = ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00+02:00", "2024-01-01T00:00:00-08:00"]
    other = ["2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00+0200"]
    for strict in (False, True):
        sf = sf_emulator.client(sf_emulator.create_org(soql_strict_datetimes=strict))
        for literal in documented:
            assert sf.query(f"SELECT Id FROM Lead WHERE CreatedDate > {literal}")["done"]
        for literal in other:
            soql = f"SELECT Id FROM Lead WHERE CreatedDate > {literal}"
            if strict:
                assert _refused(sf, soql)["errorCode"] == "MALFORMED_QUERY", literal
            else:
                assert sf.query(soql)["done"]  # accepted
