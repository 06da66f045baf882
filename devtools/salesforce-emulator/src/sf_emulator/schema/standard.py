"""The standard objects the emulator knows, with Salesforce's names, lengths and rules.

Lengths follow Salesforce's (FirstName 40, LastName 80, Email 80, Phone 40, most other
text 255, long text areas 32,000). Required-on-create follows describe: createable, not
nillable and not defaulted on create.
"""

from __future__ import annotations

from sf_emulator.schema.campaigns import campaign_objects
from sf_emulator.schema.fields import (
    FieldDef,
    ObjectDef,
    long_text,
    make_object,
    picklist,
    read_only,
    ref,
    system_fields,
    text,
)
from sf_emulator.schema.files import content_objects

LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Chat", "Other")
CASE_ORIGINS = ("Phone", "Email", "Web", "Chat")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
PRIORITIES = ("High", "Normal", "Low")
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
ACCOUNT_TYPES = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
"""A new org's values (Object Reference, Account.Type)."""
INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
"""A new org's Industry values (Account and Lead)."""


def _person(required_last: bool = True) -> list[FieldDef]:
    return [
        text("FirstName", 40),
        text("LastName", 80, nillable=not required_last),
        read_only(text("Name", 121, nillable=False, calculated=True)),
        text("Email", 80, type="email", indexed=True, id_lookup=True),
        text("Phone", 40, type="phone"),
        text("MobilePhone", 40, type="phone"),
        text("Title", 128),
    ]


def _lead() -> ObjectDef:
    converted = [
        read_only(FieldDef("IsConverted", "boolean", nillable=False, defaulted_on_create=True)),
        read_only(FieldDef("ConvertedDate", "date")),
        read_only(ref("ConvertedContactId", "Contact", indexed=True)),
        read_only(ref("ConvertedAccountId", "Account")),
        read_only(ref("ConvertedOpportunityId", "Opportunity")),
    ]
    return make_object(
        "Lead",
        "00Q",
        "Leads",
        [
            *system_fields(("Group", "User")),
            *_person(),
            text("Company", 255, nillable=False),
            picklist("Status", LEAD_STATUSES, default="Open - Not Contacted", nillable=False),
            picklist("LeadSource", LEAD_SOURCES),
            picklist("Industry", INDUSTRIES),
            long_text("Description"),
            text("Website", 255, type="url"),
            text("City", 40),
            text("Country", 80),
            *converted,
        ],
    )


def _contact() -> ObjectDef:
    return make_object(
        "Contact",
        "003",
        "Contacts",
        [
            *system_fields(),
            picklist("Salutation", SALUTATIONS),
            *_person(),
            ref("AccountId", "Account", indexed=True),
            picklist("LeadSource", LEAD_SOURCES),
            long_text("Description"),
            text("MailingCity", 40),
            text("MailingCountry", 80),
        ],
    )


def _account() -> ObjectDef:
    return make_object(
        "Account",
        "001",
        "Accounts",
        [
            *system_fields(),
            text("Name", 255, nillable=False, indexed=True),
            picklist("Type", ACCOUNT_TYPES),
            picklist("Industry", INDUSTRIES),
            text("Phone", 40, type="phone"),
            text("Website", 255, type="url"),
            text("AccountNumber", 40),
            FieldDef("NumberOfEmployees", "int"),
            long_text("Description"),
            text("BillingStreet", 255),
            text("BillingCity", 40),
            text("BillingState", 80),
            text("BillingPostalCode", 20),
            text("BillingCountry", 80),
            text("ShippingCity", 40),
            text("ShippingCountry", 80),
            ref("ParentId", "Account"),
            picklist("AccountSource", LEAD_SOURCES),
            text("Site", 80),
            FieldDef("AnnualRevenue", "currency"),
        ],
    )


def _case() -> ObjectDef:
    return make_object(
        "Case",
        "500",
        "Cases",
        [
            *system_fields(("Group", "User")),
            read_only(
                text("CaseNumber", 30, nillable=False, defaulted_on_create=True, auto_number=True)
            ),
            text("Subject", 255),
            long_text("Description"),
            picklist(
                "Status", ("New", "Working", "Escalated", "Closed"), default="New", nillable=False
            ),
            picklist("Origin", CASE_ORIGINS),
            picklist("Priority", ("High", "Medium", "Low"), default="Medium"),
            picklist("Type", ("Question", "Problem", "Feature Request")),
            picklist("Reason", ("Installation", "Performance", "Other")),
            ref("ContactId", "Contact", indexed=True),
            ref("AccountId", "Account"),
            text("SuppliedEmail", 80, type="email"),
            text("SuppliedName", 80),
            text("SuppliedPhone", 40, type="phone"),
            read_only(
                FieldDef(
                    "IsClosed", "boolean", nillable=False, defaulted_on_create=True, calculated=True
                )
            ),
        ],
    )


def _task() -> ObjectDef:
    return make_object(
        "Task",
        "00T",
        "Tasks",
        [
            *system_fields(("Group", "User")),
            # A combobox: a picklist's values offered, any text taken.
            FieldDef(
                "Subject",
                "combobox",
                length=255,
                picklist=("Call", "Send Letter", "Send Quote", "Other"),
            ),
            long_text("Description"),
            picklist("Status", TASK_STATUSES, default="Not Started", nillable=False),
            picklist("Priority", PRIORITIES, default="Normal", nillable=False),
            picklist("Type", ("Call", "Email", "Meeting", "Chat", "Other")),
            picklist("TaskSubtype", ("Task", "Email", "Call"), default="Task"),
            FieldDef("ActivityDate", "date"),
            FieldDef("CallDurationInSeconds", "int"),
            ref("WhoId", "Contact", "Lead", indexed=True),
            ref("WhatId", "Account", "Case", indexed=True),
            read_only(
                FieldDef(
                    "IsClosed", "boolean", nillable=False, defaulted_on_create=True, calculated=True
                )
            ),
        ],
    )


def _user() -> ObjectDef:
    return make_object(
        "User",
        "005",
        "Users",
        [
            *system_fields(None),
            text("Username", 80, nillable=False, indexed=True, unique=True),
            *_person(),
            text("Alias", 8),
            FieldDef("IsActive", "boolean", nillable=False, defaulted_on_create=True, default=True),
        ],
        createable=False,
        deletable=False,
    )


def _organization() -> ObjectDef:
    return make_object(
        "Organization",
        "00D",
        "Organizations",
        [
            *system_fields(None)[:1],
            read_only(text("Name", 80, nillable=False)),
            read_only(FieldDef("IsSandbox", "boolean", nillable=False)),
            read_only(text("OrganizationType", 40)),
            read_only(text("InstanceName", 5)),
        ],
        createable=False,
        updateable=False,
        deletable=False,
    )


def standard_objects() -> dict[str, ObjectDef]:
    """Every standard object, by lower-case name."""
    objs = [
        _account(),
        _contact(),
        _lead(),
        _case(),
        _task(),
        _user(),
        *content_objects(),
        *campaign_objects(),
        _organization(),
    ]
    return {o.name.lower(): o for o in objs}
