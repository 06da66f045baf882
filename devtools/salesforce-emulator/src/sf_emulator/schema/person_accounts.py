"""Person Accounts (org switch `person_accounts`): the fields the feature adds to Account
and Contact, and RecordType, where the person-account record type is found [P1, P2].

A person account is one person stored as two rows: the Account (with `IsPersonAccount`,
the person's names and `Person...` fields) and its hidden "person contact"
(`PersonContactId`), which the DML rules in `dml/people.py` keep in step.
"""

from __future__ import annotations

from dataclasses import replace

from sf_emulator.schema.fields import (
    FieldDef,
    ObjectDef,
    make_object,
    picklist,
    read_only,
    ref,
    system_fields,
    text,
)
from sf_emulator.schema.standard import LEAD_SOURCES, SALUTATIONS

MIRRORED = {
    "Salutation": "Salutation",
    "FirstName": "FirstName",
    "LastName": "LastName",
    "PersonEmail": "Email",
    "PersonMobilePhone": "MobilePhone",
    "Phone": "Phone",
    "PersonTitle": "Title",
    "PersonLeadSource": "LeadSource",
    "PersonMailingCity": "MailingCity",
    "PersonMailingCountry": "MailingCountry",
}
"""Account field of a person account -> the person contact's field holding the same value."""
PERSON_ONLY = frozenset(k for k in MIRRORED if k != "Phone") | {"PersonHomePhone"}
"""Fields a business account cannot take (inferred: Salesforce names them "bad field
names" on an account of the other kind)."""


def _is_person() -> FieldDef:
    return read_only(
        FieldDef(
            "IsPersonAccount", "boolean", nillable=False, defaulted_on_create=True, default=False
        )
    )


def person_account_fields() -> list[FieldDef]:
    """What Account gains when Person Accounts are on."""
    return [
        ref("RecordTypeId", "RecordType"),
        _is_person(),
        picklist("Salutation", SALUTATIONS),
        text("FirstName", 40),
        text("LastName", 80),
        text("PersonEmail", 80, type="email", indexed=True),
        text("PersonMobilePhone", 40, type="phone"),
        text("PersonHomePhone", 40, type="phone"),
        text("PersonTitle", 80),
        picklist("PersonLeadSource", LEAD_SOURCES),
        text("PersonMailingCity", 40),
        text("PersonMailingCountry", 80),
        read_only(ref("PersonContactId", "Contact", indexed=True)),
    ]


def with_person_accounts(objects: dict[str, ObjectDef]) -> None:
    """Account and Contact as an org with Person Accounts describes them (in place)."""
    account = objects["account"]
    extra = {f.name.lower(): f for f in person_account_fields()}
    objects["account"] = replace(account, fields={**account.fields, **extra})
    contact = objects["contact"]
    objects["contact"] = replace(
        contact, fields={**contact.fields, "ispersonaccount": _is_person()}
    )


def record_type() -> ObjectDef:
    """RecordType: read-only over the API; an org with Person Accounts has two for Account."""
    return make_object(
        "RecordType",
        "012",
        "Record Types",
        [
            *system_fields(None),
            text("Name", 80, nillable=False),
            text("DeveloperName", 80, nillable=False),
            text("SobjectType", 40, type="picklist", nillable=False),
            FieldDef("IsPersonType", "boolean", nillable=False, defaulted_on_create=True),
            FieldDef("IsActive", "boolean", nillable=False, defaulted_on_create=True),
            text("Description", 255),
            text("NamespacePrefix", 15),
        ],
        createable=False,
        updateable=False,
        deletable=False,
    )


ACCOUNT_RECORD_TYPES = (
    {"Name": "Business Account", "DeveloperName": "Business_Account", "IsPersonType": False},
    {"Name": "Person Account", "DeveloperName": "PersonAccount", "IsPersonType": True},
)
"""The record types an org with Person Accounts has for Account: the default person-account
record type `PersonAccount` [P1] and the business one enabling them requires."""
