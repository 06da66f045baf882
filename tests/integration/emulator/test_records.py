"""sObject CRUD and upsert through simple-salesforce, with Salesforce's codes and shapes."""

# ruff: noqa: S608 - these strings are SOQL built from test constants, not SQL
from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sf_emulator.ids import to18
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, error_content, rest, sobject

MISSING_LEAD = to18("00Q000000000000")


def _lead(**extra: Any) -> dict[str, Any]:
    return {"LastName": "Doe", "Company": "Acme", **extra}


def _error(exc: pytest.ExceptionInfo[SalesforceError]) -> dict[str, Any]:
    content = error_content(exc.value)
    assert len(content) == 1
    return dict(content[0])


def test_create_answers_201_with_id_location_and_limit_info(sf: Salesforce) -> None:
    resp = sf.session.post(sf.base_url + "sobjects/Lead", headers=sf.headers, json=_lead())
    assert resp.status_code == 201
    body = resp.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert len(body["id"]) == 18
    assert body["id"].startswith("00Q")
    assert resp.headers["Location"].endswith(f"/sobjects/Lead/{body['id']}")
    assert resp.headers["Sforce-Limit-Info"].startswith("api-usage=")


@pytest.mark.parametrize(
    ("name", "body", "prefix"),
    [
        ("Contact", {"LastName": "Roe"}, "003"),
        ("Account", {"Name": "Acme"}, "001"),
        ("Case", {"Subject": "Help"}, "500"),
        ("Task", {"Subject": "Chat"}, "00T"),
    ],
)
def test_key_prefixes(sf: Salesforce, name: str, body: dict[str, str], prefix: str) -> None:
    assert sobject(sf, name).create(body)["id"].startswith(prefix)


def test_get_returns_every_field_with_attributes(sf: Salesforce, sf_org: EmulatorOrg) -> None:
    leads = sobject(sf, "Lead")
    new_id = leads.create(_lead(FirstName="Jane", Email="Jane@Example.com"))["id"]
    record = leads.get(new_id)
    assert record["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v59.0/sobjects/Lead/{new_id}",
    }
    assert record["Name"] == "Jane Doe"
    assert record["Status"] == "Open - Not Contacted"
    assert record["IsConverted"] is False
    assert record["ConvertedContactId"] is None
    assert record["OwnerId"] == sf_org.user_id
    assert record["Phone"] is None
    assert record["CreatedDate"].endswith("+0000")
    only = rest(sf, f"sobjects/Lead/{new_id}", params={"fields": "Email,lastname"})
    assert list(only) == ["attributes", "Email", "LastName"]


def test_update_and_delete_answer_204(sf: Salesforce) -> None:
    leads = sobject(sf, "Lead")
    new_id = leads.create(_lead())["id"]
    assert leads.update(new_id, {"Email": "x@example.com", "Phone": ""}) == 204
    assert leads.get(new_id)["Email"] == "x@example.com"
    assert leads.delete(new_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        leads.update(new_id, {"Email": "y@example.com"})
    assert _error(exc) == {
        "errorCode": "ENTITY_IS_DELETED",
        "message": "entity is deleted",
        "fields": [],
    }


def test_unknown_record_and_object_are_404(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sobject(sf, "Lead").get(MISSING_LEAD)
    assert _error(exc)["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sobject(sf, "Widget__c").create({"Name": "x"})


def test_required_fields(sf: Salesforce) -> None:
    contacts = sobject(sf, "Contact")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sobject(sf, "Lead").create({"FirstName": "Jane", "LastName": ""})
    assert exc.value.status == 400
    assert _error(exc) == {
        "errorCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [LastName, Company]",
        "fields": ["LastName", "Company"],
    }
    new_id = contacts.create({"LastName": "Roe"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        contacts.update(new_id, {"LastName": None})
    assert _error(exc)["fields"] == ["LastName"]


def test_string_too_long_at_the_field_length(sf: Salesforce) -> None:
    tasks = sobject(sf, "Task")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sobject(sf, "Lead").create(_lead(LastName="x" * 81))
    assert _error(exc)["errorCode"] == "STRING_TOO_LONG"
    assert _error(exc)["fields"] == ["LastName"]
    assert tasks.create({"Description": "d" * 32000})["success"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        tasks.create({"Description": "d" * 32001})
    assert "max length=32000" in str(_error(exc)["message"])


def test_invalid_and_read_only_fields(sf: Salesforce) -> None:
    leads = sobject(sf, "Lead")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        leads.create(_lead(Nope__c="x"))
    assert _error(exc)["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on sobject of type Lead" in str(_error(exc)["message"])
    with pytest.raises(SalesforceMalformedRequest) as exc:
        leads.create(_lead(Name="Jane Doe"))
    assert _error(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        leads.create(_lead(Email="not-an-email"))
    assert _error(exc)["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_references_are_checked(sf: Salesforce) -> None:
    tasks = sobject(sf, "Task")
    lead = sobject(sf, "Lead").create(_lead())["id"]
    account = sobject(sf, "Account").create({"Name": "Acme"})["id"]
    assert tasks.create({"Subject": "Chat", "WhoId": lead})["success"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        tasks.create({"Subject": "Chat", "WhoId": account})
    assert _error(exc)["errorCode"] == "MALFORMED_ID"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        tasks.create({"Subject": "Chat", "WhoId": MISSING_LEAD})
    assert _error(exc)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_upsert_on_an_external_id(sf_emulator: SalesforceEmulator) -> None:
    org = sf_emulator.create_org(
        custom_fields=[{"object": "Lead", "name": "Chat_Id__c", "external_id": True}]
    )
    sf = sf_emulator.client(org)
    leads = sobject(sf, "Lead")
    created = leads.upsert("Chat_Id__c/chat-1", _lead(), raw_response=True)
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = leads.upsert("Chat_Id__c/CHAT-1", {"Email": "u@example.com"}, raw_response=True)
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert leads.get_by_custom_id("Chat_Id__c", "chat-1")["Email"] == "u@example.com"
    old = sf_emulator.client(org, version="45.0")
    assert sobject(old, "Lead").upsert("Chat_Id__c/chat-1", {"Phone": "1"}) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful(
            "sobjects/Lead/Chat_Id__c/chat-2",
            method="PATCH",
            json=_lead(),
            params={"updateOnly": "true"},
        )
    leads.create(_lead(Chat_Id__c="twice"))
    leads.create(_lead(Chat_Id__c="twice"))
    with pytest.raises(SalesforceMoreThanOneRecord) as many:
        leads.upsert("Chat_Id__c/twice", {"Phone": "2"})
    assert many.value.status == 300
    assert len(error_content(many.value)) == 2
    with pytest.raises(SalesforceResourceNotFound):
        leads.upsert("Email/x@example.com", _lead())


def test_duplicate_rule_blocks_until_allow_save(sf_emulator: SalesforceEmulator) -> None:
    sf = sf_emulator.client(sf_emulator.create_org(duplicate_rules="alert"))
    leads = sobject(sf, "Lead")
    first = leads.create(_lead(FirstName="Dee", Email="dup@example.com"))["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        leads.create(_lead(FirstName="Dee", Email="DUP@example.com"))
    error = _error(exc)
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    match = error["duplicateResut"]["matchResults"][0]  # as real answers spell it
    assert match["matchRecords"][0]["record"]["Id"] == first
    allowed = leads.create(
        _lead(FirstName="Dee", Email="dup@example.com"),
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    assert allowed["success"]


def test_converted_lead_cannot_be_updated(
    sf: Salesforce, sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    leads = sobject(sf, "Lead")
    lead = leads.create(_lead(Email="c@example.com"))["id"]
    converted = sf_emulator.call("POST", f"/__admin/orgs/{sf_org.org_id}/leads/{lead}/convert")
    contact = converted.json()["contactId"]
    record = leads.get(lead)
    assert record["IsConverted"] is True
    assert record["ConvertedContactId"] == contact
    assert sobject(sf, "Contact").get(contact)["Email"] == "c@example.com"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        leads.update(lead, {"Phone": "1"})
    assert _error(exc)["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_expired_and_unknown_sessions_are_401(
    sf_emulator: SalesforceEmulator, sf_org: EmulatorOrg
) -> None:
    sf = sf_emulator.client(sf_org)
    sf_emulator.call("POST", f"/__admin/orgs/{sf_org.org_id}/expire-sessions")
    with pytest.raises(SalesforceExpiredSession) as exc:
        sobject(sf, "Lead").create(_lead())
    assert _error(exc) == {
        "errorCode": "INVALID_SESSION_ID",
        "message": "Session expired or invalid",
    }
    with pytest.raises(SalesforceExpiredSession):
        sf_emulator.client(sf_org, token="00Dbogus!token").query("SELECT Id FROM Lead")
    fresh = sf_emulator.client(sf_org, token=sf_emulator.new_session(sf_org.org_id))
    assert sobject(fresh, "Lead").create(_lead())["success"]


def test_files_and_case_numbers(sf: Salesforce) -> None:
    versions = sobject(sf, "ContentVersion")
    cases = sobject(sf, "Case")
    lead = sobject(sf, "Lead").create(_lead())["id"]
    version = versions.create(
        {
            "Title": "transcript",
            "PathOnClient": "chat.txt",
            "VersionData": "aGVsbG8=",
            "FirstPublishLocationId": lead,
        }
    )
    row = sf.query(
        f"SELECT ContentDocumentId, FileExtension, ContentSize, VersionData "
        f"FROM ContentVersion WHERE Id = '{version['id']}'"
    )["records"][0]
    assert row["FileExtension"] == "txt"
    assert row["ContentSize"] == 5
    links = sf.query(
        f"SELECT LinkedEntityId FROM ContentDocumentLink "
        f"WHERE ContentDocumentId = '{row['ContentDocumentId']}'"
    )
    assert links["records"][0]["LinkedEntityId"] == lead
    assert versions.get_base64(version["id"], base64_field="VersionData") == b"hello"
    first = cases.get(cases.create({"Subject": "a"})["id"])
    second = cases.get(cases.create({"Subject": "b"})["id"])
    assert int(second["CaseNumber"]) == int(first["CaseNumber"]) + 1
    assert first["Status"] == "New"
    assert first["IsClosed"] is False
