"""Sforce-Limit-Info parsing, error classification, describe parsing."""

from __future__ import annotations

from typing import Any

import pytest

from chat_runtime.metrics import build_metrics, new_registry
from chat_salesforce import errors
from chat_salesforce.limits import ApiBudget, ApiUsage, parse_limit_info
from chat_salesforce.schema import parse_describe, parse_describe_global


@pytest.mark.parametrize(
    ("header", "usage"),
    [
        ("api-usage=18/5000", ApiUsage(18, 5000)),
        ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)", ApiUsage(25, 5000)),
        ("api-usage=6000/5000", ApiUsage(6000, 5000)),
        ("", None),
        (None, None),
        ("per-app-api-usage=1/2(appName=x)", None),
        ("api-usage=1/0", None),
    ],
)
def test_parse_limit_info(header: str | None, usage: ApiUsage | None) -> None:
    assert parse_limit_info(header) == usage


def test_budget_feeds_the_gauges() -> None:
    registry = new_registry()
    budget = ApiBudget(build_metrics(registry))
    budget.record("t1", "api-usage=6000/5000")
    assert budget.usage("t1") == ApiUsage(6000, 5000)
    assert budget.remaining_share("t1") == 0
    assert budget.remaining_share("unknown") == 1.0
    assert registry.get_sample_value("chat_salesforce_api_remaining", {"tenant": "t1"}) == 0
    assert registry.get_sample_value("chat_salesforce_api_limit", {"tenant": "t1"}) == 5000


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("INVALID_SESSION_ID", 401, errors.InvalidSession),
        ("REQUEST_LIMIT_EXCEEDED", 403, errors.RequestLimitExceeded),
        ("INVALID_TYPE", 400, errors.InvalidType),
        ("INVALID_FIELD", 400, errors.InvalidField),
        ("MALFORMED_QUERY", 400, errors.MalformedQuery),
        ("REQUIRED_FIELD_MISSING", 400, errors.RequiredFieldMissing),
        ("ENTITY_IS_DELETED", 404, errors.RecordNotFound),
        ("UNABLE_TO_LOCK_ROW", 400, errors.TransientError),
        ("SERVER_UNAVAILABLE", 503, errors.TransientError),
        ("WHATEVER", 500, errors.TransientError),
        ("STRING_TOO_LONG", 400, errors.SalesforceApiError),
    ],
)
def test_classify(code: str, status: int, cls: type[errors.SalesforceApiError]) -> None:
    error = errors.classify(code, "m", status=status)
    assert type(error) is cls
    assert error.retryable == (cls is errors.TransientError)


def test_from_answer_reads_the_error_array() -> None:
    body = [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "x", "fields": ["Company"]}]
    error = errors.from_answer(400, body)
    assert isinstance(error, errors.RequiredFieldMissing)
    assert error.fields == ("Company",)
    assert error.status == 400


def test_from_answer_without_an_error_array() -> None:
    error = errors.from_answer(502, "<html>Bad Gateway</html>")
    assert isinstance(error, errors.TransientError)
    assert (error.error_code, error.status) == ("HTTP_502", 502)
    assert not isinstance(errors.from_answer(418, None), errors.TransientError)


def test_duplicates_accepts_both_spellings() -> None:
    match = {"matchResults": [{"matchRecords": [{"record": {"Id": "00Q000000000001AAA"}}]}]}
    for key in ("duplicateResult", "duplicateResut"):
        error = errors.classify("DUPLICATES_DETECTED", "dup", body=[{key: match}])
        assert isinstance(error, errors.DuplicatesDetected)
        assert error.duplicate_ids == ("00Q000000000001AAA",)


def test_collection_errors() -> None:
    assert errors.collection_errors({"success": True}) is None
    failed = errors.collection_errors(
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "m"}]}
    )
    assert isinstance(failed, errors.TransientError)


def _field(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name, "type": "string", "nillable": True, **extra}


def test_describe_parsing_and_required_fields() -> None:
    schema = parse_describe(
        {
            "name": "Lead",
            "label": "Lead",
            "createable": True,
            "updateable": True,
            "fields": [
                _field("Id", createable=False, nillable=False, defaultedOnCreate=True),
                _field("LastName", createable=True, nillable=False),
                _field("Status", createable=True, nillable=False, defaultedOnCreate=True),
                _field("OwnerId", createable=True, relationshipName="Owner", referenceTo=["User"]),
                _field(
                    "Rating", picklistValues=[{"value": "Hot"}, {"value": "Old", "active": False}]
                ),
            ],
        }
    )
    assert [f.name for f in schema.required_fields] == ["LastName"]
    assert schema.field("lastname") is schema.field("LastName")
    assert schema.has_path("Owner.Email")
    assert not schema.has_path("Nope.Email")
    assert schema.has_path("ownerid")
    assert not schema.has_path("Nope")
    rating = schema.field("Rating")
    assert rating is not None
    assert rating.picklist_values == ("Hot",)
    listed = parse_describe_global({"sobjects": [{"name": "Lead"}, {"name": "Account"}]})
    assert [o.name for o in listed] == ["Account", "Lead"]
