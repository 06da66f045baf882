"""Person Accounts [P1]: one person stored as an Account (`IsPersonAccount`) and its
hidden person contact (`PersonContactId`), kept in step by these rules.

- A person account is created with a person-account record type and `LastName`; its `Name`
  is the person's name and not writable [P3].
- A business account takes no person fields (inferred: the message is the one Salesforce
  gives for a field of the other kind, "bad field names on insert/update call").
- Creating a person account creates its contact; updating it updates the contact;
  deleting it deletes the contact [P1].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sf_emulator import values
from sf_emulator.errors import dml_error
from sf_emulator.schema.person_accounts import MIRRORED, PERSON_ONLY

if TYPE_CHECKING:
    from sf_emulator.dml.writer import Writer

Record = dict[str, Any]
NAME_LOCKED = (
    "Unable to create/update fields: Name. Please check the security settings of this field "
    "and verify that it is read/write for your profile or permission set."
)


def _on(writer: Writer, sobject: str) -> bool:
    return sobject == "Account" and writer.org.catalog.person_accounts


def _full_name(record: Record) -> str:
    return " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)


def _bad_fields(fields: list[str]) -> Exception:
    return dml_error(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Account: bad field names on insert/update call: {', '.join(fields)}",
        fields,
    )


def is_person_type(writer: Writer, record_type_id: Any) -> bool:
    if not isinstance(record_type_id, str):
        return False
    stored = writer.store.records.get(writer.org.id, record_type_id)
    return bool(stored and stored.sobject == "RecordType" and stored.data.get("IsPersonType"))


def shape_new(writer: Writer, sobject: str, record: Record) -> None:
    """A new Account of a Person Accounts org as its record type makes it [P3]."""
    if not _on(writer, sobject):
        return
    if not is_person_type(writer, record.get("RecordTypeId")):
        bad = sorted(k for k in PERSON_ONLY if record.get(k) is not None)
        if bad:
            raise _bad_fields(bad)
        return
    if "Name" in record:
        raise dml_error("INVALID_FIELD_FOR_INSERT_UPDATE", NAME_LOCKED, ["Name"])
    if not record.get("LastName"):
        raise dml_error(
            "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]
        )
    record["IsPersonAccount"] = True
    record["Name"] = _full_name(record)


def shape_update(writer: Writer, sobject: str, record: Record, changed: list[str]) -> None:
    """An updated Account: a person account's Name follows its names, and neither kind takes
    the other kind's fields."""
    if not _on(writer, sobject):
        return
    if record.get("IsPersonAccount"):
        if "Name" in changed:
            raise _bad_fields(["Name"])
        record["Name"] = _full_name(record)
    else:
        bad = sorted(k for k in changed if k in PERSON_ONLY)
        if bad:
            raise _bad_fields(bad)


def after_save(writer: Writer, sobject: str, record: Record) -> None:
    """The person contact created with its account, or brought in step with it."""
    if not (_on(writer, sobject) and record.get("IsPersonAccount")):
        return
    contact_obj = writer.org.catalog.objects["contact"]
    mirrored = {c: record.get(a) for a, c in MIRRORED.items()}
    contact_id = record.get("PersonContactId")
    if contact_id is None:
        body = {k: v for k, v in mirrored.items() if v is not None}
        contact = writer.build(contact_obj, {**body, "AccountId": record["Id"]})
        contact.update(IsPersonAccount=True, OwnerId=record.get("OwnerId"))
        writer.store.records.insert(writer.org.id, contact_obj, contact)
        record["PersonContactId"] = contact["Id"]
        writer.store.records.update(writer.org.id, writer.org.catalog.objects["account"], record)
        return
    stored = writer.store.records.get(writer.org.id, contact_id)
    if stored is None:
        return
    contact = {**stored.data, **mirrored, "OwnerId": record.get("OwnerId")}
    contact.update(Name=_full_name(contact), SystemModstamp=values.now())
    writer.store.records.update(writer.org.id, contact_obj, contact)


def after_delete(writer: Writer, sobject: str, record: Record) -> list[tuple[str, str]]:
    """(object, id) of the person contact that goes with a deleted person account."""
    contact_id = record.get("PersonContactId")
    if sobject == "Account" and contact_id:
        return [("Contact", str(contact_id))]
    return []
