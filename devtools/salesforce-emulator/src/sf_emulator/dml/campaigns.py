"""Campaign members [C1, C2]: a member is a Lead or a Contact, once per campaign; it goes
when its campaign or its person is deleted (inferred)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_emulator import values
from sf_emulator.errors import dml_error
from sf_emulator.schema.campaigns import RESPONDED

if TYPE_CHECKING:
    from sf_emulator.dml.writer import Writer

Record = dict[str, Any]
MEMBER_OF = {"Campaign": "CampaignId", "Lead": "LeadId", "Contact": "ContactId"}


def check_new_member(writer: Writer, sobject: str, record: Record) -> None:
    """A member names a Contact or a Lead (with both, only the Contact is kept [C1]), and
    is not already in the campaign: `DUPLICATE_VALUE` "Already a campaign member." [C2]."""
    if sobject != "CampaignMember":
        return
    if record.get("ContactId"):
        record["LeadId"] = None
        field = "ContactId"
    elif record.get("LeadId"):
        field = "LeadId"
    else:
        raise dml_error(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [ContactId, LeadId]",
            ["ContactId", "LeadId"],
        )
    store, org_id = writer.store, writer.org.id
    holders = store.records.lookup(org_id, "CampaignMember", field, [str(record[field])])
    for stored in store.records.get_many(org_id, holders).values():
        if not stored.deleted and stored.data.get("CampaignId") == record.get("CampaignId"):
            raise dml_error("DUPLICATE_VALUE", "Already a campaign member.", [])


def derive(sobject: str, record: Record) -> None:
    """`HasResponded` follows `Status` (read-only, set through the status) [C1]."""
    if sobject != "CampaignMember":
        return
    record["HasResponded"] = record.get("Status") in RESPONDED
    if record["HasResponded"] and not record.get("FirstRespondedDate"):
        record["FirstRespondedDate"] = values.today().isoformat()


def after_delete(writer: Writer, sobject: str, record: Record) -> list[tuple[str, str]]:
    """(object, id) of the members that go with a deleted campaign, Lead or Contact."""
    field = MEMBER_OF.get(sobject)
    if field is None:
        return []
    ids = writer.store.records.lookup(writer.org.id, "CampaignMember", field, [record["Id"]])
    return [("CampaignMember", i) for i in ids]
