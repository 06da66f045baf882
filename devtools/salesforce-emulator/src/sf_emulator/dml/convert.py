"""Lead conversion, which Salesforce offers only over SOAP; the admin API exposes it.

The Lead's activities move to the new Contact (their `WhoId`) [S10]; from then on nothing
may reference the Lead (`CANNOT_UPDATE_CONVERTED_LEAD`, checked by the writer) [S9].
"""

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
    _move_activities(writer, lead_id, contact_id)
    return {
        "leadId": lead["Id"],
        "contactId": contact_id,
        "accountId": account_id,
        "opportunityId": None,
    }


def _move_activities(writer: Writer, lead_id: str, contact_id: str) -> None:
    task_obj = writer.org.catalog.objects["task"]
    store = writer.store
    ids = store.records.lookup(writer.org.id, "Task", "WhoId", [lead_id])
    for stored in store.records.get_many(writer.org.id, ids).values():
        task = dict(stored.data)
        task.update(WhoId=contact_id, SystemModstamp=values.now())
        store.records.update(writer.org.id, task_obj, task)
