"""Lead conversion, which Salesforce offers only over SOAP; the admin API exposes it."""

from __future__ import annotations

from typing import Any

from sf_emulator import values
from sf_emulator.dml.writer import Writer
from sf_emulator.errors import dml_error

_COPIED = (
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "Title",
    "LeadSource",
    "Description",
)


def convert_lead(
    writer: Writer, lead_id: str, account_id: str | None = None, contact_id: str | None = None
) -> dict[str, Any]:
    """Convert a Lead into a Contact (and an Account), unless existing ones are given."""
    catalog = writer.org.catalog
    lead_obj = catalog.objects["lead"]
    lead = dict(writer.load(lead_obj, lead_id))
    if lead.get("IsConverted"):
        raise dml_error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
    if account_id is None:
        account_id = writer.create(catalog.objects["account"], {"Name": lead["Company"]})
    if contact_id is None:
        fields = {k: lead[k] for k in _COPIED if lead.get(k) is not None}
        contact_id = writer.create(
            catalog.objects["contact"], {**fields, "AccountId": account_id}, batch_ids=()
        )
    lead.update(
        IsConverted=True,
        ConvertedContactId=contact_id,
        ConvertedAccountId=account_id,
        ConvertedDate=values.today().isoformat(),
        Status="Closed - Converted",
        LastModifiedDate=values.now(),
        SystemModstamp=values.now(),
    )
    writer.store.records.update(writer.org.id, lead_obj, lead)
    return {
        "leadId": lead["Id"],
        "contactId": contact_id,
        "accountId": account_id,
        "opportunityId": None,
    }
