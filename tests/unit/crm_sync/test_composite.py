"""The Composite API shapes the Salesforce adapter writes and reads."""

from __future__ import annotations

import pytest

from crm_sync.adapters.composite import raise_for, record_error, reference, soql, sub_error
from crm_sync.adapters.ports import CallRejected, SalesforceUnavailable
from crm_sync.domain.salesforce import InQuery, Ref


def test_soql_escapes_every_value() -> None:
    query = InQuery(
        "User", ("Id", "Email"), "Email", ("a@b.co", "x' OR Name != '"), (("IsActive", True),)
    )
    assert soql(query) == (
        "SELECT Id, Email FROM User WHERE Email IN ('a@b.co','x\\' OR Name != \\'') "
        "AND IsActive = true"
    )


def test_references_name_an_earlier_steps_record() -> None:
    assert reference(Ref("p", 3)) == "@{p[3].id}"
    assert reference("plain") == "plain"


def test_duplicates_are_read_in_both_spellings() -> None:
    for key in ("duplicateResult", "duplicateResut"):
        item = {
            "statusCode": "DUPLICATES_DETECTED",
            "message": "Use one of these records?",
            key: {"matchResults": [{"matchRecords": [{"record": {"Id": "00Q000000000000001"}}]}]},
        }
        assert record_error(item).duplicate_ids == ("00Q000000000000001",)


def test_subrequest_errors() -> None:
    halted = {"httpStatusCode": 400, "body": [{"errorCode": "PROCESSING_HALTED", "message": "x"}]}
    assert sub_error(halted).code == "PROCESSING_HALTED"
    raise_for({"httpStatusCode": 200, "body": {}})
    with pytest.raises(CallRejected):
        raise_for(
            {"httpStatusCode": 400, "body": [{"errorCode": "INVALID_FIELD", "message": "no"}]}
        )
    with pytest.raises(SalesforceUnavailable):
        raise_for({"httpStatusCode": 503, "body": [{"errorCode": "SERVER_UNAVAILABLE"}]})
