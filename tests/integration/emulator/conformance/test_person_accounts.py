"""Conformance: Person Accounts (org switch `person_accounts`, off by default).

- [P1] SOAP API Developer Guide, "Person Account Record Types": person account record types
  are those whose accounts have `IsPersonAccount` true; creating a person account creates
  its "person contact", whose id is the account's `PersonContactId`; deleting the account
  deletes the contact (Doc).
- [P2] The person-account record type is found with `SELECT Id FROM RecordType WHERE
  SobjectType = 'Account' AND IsPersonType = true` (FuseIT Send2CRM docs, "Person
  Accounts"); RecordType's fields `DeveloperName`, `IsPersonType`, `SobjectType` (Field
  Reference, RecordType) (Doc).
- [P3] A person account is created with its record type and `LastName`; `Name` is not
  writable on it: `INVALID_FIELD_FOR_INSERT_UPDATE` "Unable to create/update fields: Name.
  ..." (dhoechst/Salesforce-Test-Factory #14, SalesforceCommerceCloud/b2c-crm-sync #267)
  (Obs).
- [P4] Describe shows the person fields (`IsPersonAccount`, `PersonEmail`, ...) only in an
  org with Person Accounts, which is how clients detect them (Inf from [P1]: the fields
  belong to the feature).

Against a real org, a test asking for `person_accounts=True` runs only when the org has
Person Accounts, and one asking for `False` only when it has not (see
`tests.conformance_target`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from tests.emulator_fixtures import SalesforceEmulator, error_content, rest

PERSON_FIELDS = {"IsPersonAccount", "PersonEmail", "PersonMobilePhone", "PersonContactId"}


def _person_type(sf: Salesforce) -> str:
    soql = "SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true"
    return str(rest(sf, "query", params={"q": soql})["records"][0]["Id"])


def _person(sf: Salesforce, **fields: Any) -> tuple[str, dict[str, Any]]:
    tag = uuid.uuid4().hex[:10]
    body = {
        "RecordTypeId": _person_type(sf),
        "FirstName": "Marge",
        "LastName": f"Simpson{tag}",
        "PersonEmail": f"marge.{tag}@x.test",
        **fields,
    }
    created = rest(sf, "sobjects/Account", method="POST", json=body)
    return str(created["id"]), body


def _account_fields(sf: Salesforce) -> set[str]:
    return {f["name"] for f in rest(sf, "sobjects/Account/describe")["fields"]}


def test_describe_has_no_person_fields_without_person_accounts(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [P4]
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=False))
    assert not PERSON_FIELDS & _account_fields(sf)


def test_describe_has_the_person_fields_with_person_accounts(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [P4]
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    assert _account_fields(sf) >= PERSON_FIELDS
    contact = {f["name"] for f in rest(sf, "sobjects/Contact/describe")["fields"]}
    assert "IsPersonAccount" in contact


def test_the_person_account_record_type_is_found_by_query(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [P2]
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    soql = (
        "SELECT Id, DeveloperName, IsPersonType FROM RecordType "
        "WHERE SobjectType = 'Account' AND IsPersonType = true"
    )
    rows = rest(sf, "query", params={"q": soql})["records"]
    assert rows
    assert all(r["Id"].startswith("012") and r["IsPersonType"] is True for r in rows)
    assert "PersonAccount" in {r["DeveloperName"] for r in rows}


def test_a_person_account_has_a_person_contact(sf_emulator: SalesforceEmulator) -> None:
    # [P1], [P3]
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    account_id, body = _person(sf, PersonMobilePhone="+1 555 0199")
    account = rest(sf, f"sobjects/Account/{account_id}")
    assert account["IsPersonAccount"] is True
    assert account["Name"] == f"Marge {body['LastName']}"
    contact_id = account["PersonContactId"]
    assert contact_id.startswith("003")
    soql = format_soql(
        "SELECT Id, AccountId, IsPersonAccount, Email, MobilePhone, LastName FROM Contact "
        "WHERE Email = {}",
        body["PersonEmail"],
    )
    [contact] = rest(sf, "query", params={"q": soql})["records"]
    assert contact["Id"] == contact_id
    assert contact["AccountId"] == account_id
    assert contact["IsPersonAccount"] is True
    assert (contact["MobilePhone"], contact["LastName"]) == ("+1 555 0199", body["LastName"])
    by_email = format_soql("SELECT Id FROM Account WHERE PersonEmail = {}", body["PersonEmail"])
    assert [r["Id"] for r in rest(sf, "query", params={"q": by_email})["records"]] == [account_id]


def test_a_person_account_takes_no_name(sf_emulator: SalesforceEmulator) -> None:
    # [P3]
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    with pytest.raises(SalesforceMalformedRequest) as exc:
        _person(sf, Name="Marge Simpson")
    [error] = error_content(exc.value)
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["message"].startswith("Unable to create/update fields: Name.")


def test_an_update_of_a_person_account_reaches_its_contact(
    sf_emulator: SalesforceEmulator,
) -> None:
    # [P1]: one person, two rows; the person fields are the contact's.
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    account_id, body = _person(sf)
    email = f"new.{body['PersonEmail']}"
    sf.restful(f"sobjects/Account/{account_id}", method="PATCH", json={"PersonEmail": email})
    contact_id = rest(sf, f"sobjects/Account/{account_id}")["PersonContactId"]
    assert rest(sf, f"sobjects/Contact/{contact_id}")["Email"] == email


def test_cases_and_tasks_go_on_a_person_account(sf_emulator: SalesforceEmulator) -> None:
    # [P1]: the account for "related to", its person contact for "name".
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    account_id, _ = _person(sf)
    contact_id = rest(sf, f"sobjects/Account/{account_id}")["PersonContactId"]
    case = {"Subject": "Chat", "AccountId": account_id, "ContactId": contact_id}
    rest(sf, "sobjects/Case", method="POST", json=case)
    task = {"Subject": "Chat", "WhatId": account_id, "WhoId": contact_id}
    rest(sf, "sobjects/Task", method="POST", json=task)
    soql = format_soql(
        "SELECT COUNT() FROM Task WHERE WhatId = {} AND WhoId = {}", account_id, contact_id
    )
    assert rest(sf, "query", params={"q": soql})["totalSize"] == 1


def test_deleting_a_person_account_deletes_its_contact(sf_emulator: SalesforceEmulator) -> None:
    # [P1]
    sf = sf_emulator.client(sf_emulator.create_org(person_accounts=True))
    account_id, _ = _person(sf)
    contact_id = rest(sf, f"sobjects/Account/{account_id}")["PersonContactId"]
    sf.restful(f"sobjects/Account/{account_id}", method="DELETE")
    soql = format_soql("SELECT COUNT() FROM Contact WHERE Id = {}", contact_id)
    assert rest(sf, "query", params={"q": soql})["totalSize"] == 0
