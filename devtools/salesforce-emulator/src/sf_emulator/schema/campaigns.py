"""Campaign and CampaignMember: a campaign (a UTM campaign, an event) and the Leads and
Contacts in it. A member names its campaign and its person on create only [C1]."""

from __future__ import annotations

from dataclasses import replace

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

CAMPAIGN_TYPES = (
    "Conference",
    "Webinar",
    "Trade Show",
    "Public Relations",
    "Partners",
    "Referral Program",
    "Advertisement",
    "Banner Ads",
    "Direct Mail",
    "Email",
    "Telemarketing",
    "Other",
)
CAMPAIGN_STATUSES = ("Planned", "In Progress", "Completed", "Aborted")
MEMBER_STATUSES = ("Sent", "Responded")
"""A new campaign's member statuses; "Responded" is the one that counts as a response."""
RESPONDED = frozenset({"Responded"})


def _campaign() -> ObjectDef:
    return make_object(
        "Campaign",
        "701",
        "Campaigns",
        [
            *system_fields(),
            text("Name", 80, nillable=False, indexed=True),
            FieldDef(
                "IsActive", "boolean", nillable=False, defaulted_on_create=True, default=False
            ),
            picklist("Type", CAMPAIGN_TYPES),
            picklist("Status", CAMPAIGN_STATUSES, default="Planned"),
            FieldDef("StartDate", "date"),
            FieldDef("EndDate", "date"),
            long_text("Description"),
            ref("ParentId", "Campaign"),
        ],
    )


def _create_only(f: FieldDef) -> FieldDef:
    return replace(f, updateable=False)


def _member() -> ObjectDef:
    return make_object(
        "CampaignMember",
        "00v",
        "Campaign Members",
        [
            *system_fields(None),
            _create_only(ref("CampaignId", "Campaign", nillable=False, indexed=True)),
            _create_only(ref("LeadId", "Lead", indexed=True)),
            _create_only(ref("ContactId", "Contact", indexed=True)),
            picklist("Status", MEMBER_STATUSES, default="Sent"),
            read_only(
                FieldDef(
                    "HasResponded",
                    "boolean",
                    nillable=False,
                    defaulted_on_create=True,
                    default=False,
                )
            ),
            read_only(FieldDef("FirstRespondedDate", "date")),
        ],
    )


def campaign_objects() -> list[ObjectDef]:
    return [_campaign(), _member()]
