"""Create, update, upsert and delete one record, enforcing what Salesforce enforces.

Order of checks follows Salesforce: unknown fields, then read-only fields, then each
value, then required fields, references, and finally duplicate rules.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sf_emulator import ids, values
from sf_emulator.dml import campaigns, content, duplicates, people
from sf_emulator.dml.coerce import coerce
from sf_emulator.errors import SalesforceError, dml_error, entity_deleted, not_found
from sf_emulator.schema.fields import FieldDef, ObjectDef
from sf_emulator.store import Store
from sf_emulator.store.orgs import Org

Record = dict[str, Any]
PERSON_OBJECTS = frozenset({"Lead", "Contact", "User"})
CLOSED_STATUS = {"Case": "Closed", "Task": "Completed"}
ASSIGNED_OBJECTS = frozenset({"Lead", "Case"})


def method_not_allowed(method: str, allowed: str) -> SalesforceError:
    return SalesforceError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}"
    )


@dataclass
class Writer:
    """The writes of one request, as the session's user of one org."""

    store: Store
    org: Org
    user_id: str
    version: str
    allow_save: bool = False
    auto_assign: bool = True
    """Run the org's active assignment rules (no `Sforce-Auto-Assign: FALSE` was sent)."""

    def load(self, obj: ObjectDef, record_id: str) -> Record:
        """A live record of `obj`, or NOT_FOUND / ENTITY_IS_DELETED."""
        if not ids.is_id(record_id):
            raise not_found()
        stored = self.store.records.get(self.org.id, ids.to18(record_id))
        if stored is None or stored.sobject != obj.name:
            raise not_found()
        if stored.deleted:
            raise entity_deleted()
        return stored.data

    def build(self, obj: ObjectDef, body: Record) -> Record:
        """A new record from a create body: checked, defaulted, stamped, derived."""
        if not obj.createable:
            raise method_not_allowed("POST", "GET,HEAD")
        if "Id" in body or "id" in body:
            raise dml_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"]
            )
        record: Record = {}
        for f, raw in self._fields(obj, body, "createable"):
            record[f.name] = self._coerce(f, raw)
        people.shape_new(self, obj.name, record)
        for f in obj.fields.values():
            if f.name not in record and f.defaulted_on_create and f.default is not None:
                record[f.name] = f.default
        self._require(obj, record, [f for f in obj.fields.values() if f.required])
        stamp = values.now()
        record.update(
            Id=ids.new_id(obj.key_prefix),
            IsDeleted=False,
            CreatedDate=stamp,
            CreatedById=self.user_id,
            LastModifiedDate=stamp,
            LastModifiedById=self.user_id,
            SystemModstamp=stamp,
        )
        if obj.field("OwnerId") and not record.get("OwnerId"):
            record["OwnerId"] = self.user_id
        self._assign(obj, record)
        if obj.name == "Lead":
            record["IsConverted"] = False
        if obj.name == "Case":
            number = self.store.records.next_counter(self.org.id, "Case", 1001)
            record["CaseNumber"] = f"{number:08d}"
        self._derive(obj, record)
        return record

    def _coerce(self, f: FieldDef, raw: Any) -> Any:
        return coerce(f, raw, self.org.catalog, utf16=self.org.settings.string_length_utf16)

    def _assign(self, obj: ObjectDef, record: Record) -> None:
        """The org's active assignment rule routes a created or updated Lead or Case to its
        User, unless the request said `Sforce-Auto-Assign: FALSE`."""
        routed_to = self.org.settings.assignment_rule_owner
        if not (routed_to and self.auto_assign and obj.name in ASSIGNED_OBJECTS):
            return
        for user_id, username in self.store.orgs.users(self.org.id):
            if routed_to in (user_id, username):
                record["OwnerId"] = user_id
                return

    def create(self, obj: ObjectDef, body: Record, batch_ids: Collection[str] = ()) -> str:
        record = self.build(obj, body)
        written = [f for f in (obj.field(k) for k in body) if f is not None]
        self._check_references(obj, record, written)
        self._check_who_what(obj, record)
        self._check_unique(obj, record, written)
        campaigns.check_new_member(self, obj.name, record)
        duplicates.check(
            self.store, self.org, obj, record, self.version, self.allow_save, batch_ids
        )
        if obj.name == "ContentVersion":
            content.prepare_version(self, record)
        self.store.records.insert(self.org.id, obj, record)
        people.after_save(self, obj.name, record)
        if obj.name == "ContentVersion":
            content.publish_version(self, record)
        return str(record["Id"])

    def update(
        self, obj: ObjectDef, record_id: str, body: Record, batch_ids: Collection[str] = ()
    ) -> None:
        if not obj.updateable:
            raise method_not_allowed("PATCH", "GET,HEAD,DELETE")
        record = dict(self.load(obj, record_id))
        if record.get("IsConverted"):
            raise dml_error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        body = {k: v for k, v in body.items() if k.lower() != "id"}
        fields = self._fields(obj, body, "updateable")
        for f, raw in fields:
            record[f.name] = self._coerce(f, raw)
        people.shape_update(self, obj.name, record, [f.name for f, _ in fields])
        self._require(obj, record, [f for f, _ in fields if f.required])
        self._assign(obj, record)
        stamp = values.now()
        record.update(LastModifiedDate=stamp, LastModifiedById=self.user_id, SystemModstamp=stamp)
        self._derive(obj, record)
        self._check_references(obj, record, [f for f, _ in fields])
        self._check_who_what(obj, record)
        self._check_unique(obj, record, [f for f, _ in fields])
        if duplicates.changed_match_fields(obj.name, (f.name for f, _ in fields)):
            duplicates.check(
                self.store, self.org, obj, record, self.version, self.allow_save, batch_ids
            )
        self.store.records.update(self.org.id, obj, record)
        people.after_save(self, obj.name, record)

    def delete(self, obj: ObjectDef, record_id: str) -> None:
        if not obj.deletable:
            raise method_not_allowed("DELETE", "GET,HEAD,PATCH")
        record = dict(self.load(obj, record_id))
        record.update(IsDeleted=True, SystemModstamp=values.now())
        self.store.records.delete(self.org.id, obj, record)
        # What goes with it: a person account's contact, a campaign's or person's members.
        for sobject, child in [
            *people.after_delete(self, obj.name, record),
            *campaigns.after_delete(self, obj.name, record),
        ]:
            self.delete(self.org.catalog.objects[sobject.lower()], child)

    def upsert(
        self,
        obj: ObjectDef,
        field_name: str,
        value: str,
        body: Record,
        update_only: bool = False,
        batch_ids: Collection[str] = (),
    ) -> tuple[str, bool]:
        """(id, created) for an upsert on an external id field, or 300 with the matches."""
        f = external_id_field(obj, field_name)
        body = {k: v for k, v in body.items() if k.lower() != f.name.lower()}
        if f.name == "Id":
            matches = [ids.to18(value)] if ids.is_id(value) else []
            matches = [m for m in matches if self._live(obj, m)]
        else:
            matches = self.store.records.lookup(self.org.id, obj.name, f.name, [value])
        if len(matches) > 1:
            base = f"/services/data/v{self.version}/sobjects/{obj.name}"
            raise SalesforceError(
                300,
                "MULTIPLE_CHOICES",
                "several records match",
                None,
                raw_body=[f"{base}/{m}" for m in matches],
            )
        if matches:
            self.update(obj, matches[0], body, batch_ids)
            return matches[0], False
        if update_only or f.name == "Id":
            raise not_found()
        return self.create(obj, {**body, f.name: value}, batch_ids), True

    def _live(self, obj: ObjectDef, record_id: str) -> bool:
        stored = self.store.records.get(self.org.id, record_id)
        return stored is not None and stored.sobject == obj.name and not stored.deleted

    def _fields(self, obj: ObjectDef, body: Record, verb: str) -> list[tuple[FieldDef, Any]]:
        out: list[tuple[FieldDef, Any]] = []
        for key, raw in body.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                raise dml_error(
                    "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            out.append((f, raw))
        locked = [f.name for f, _ in out if not getattr(f, verb)]
        if locked:
            raise dml_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                locked,
            )
        return out

    def _require(self, obj: ObjectDef, record: Record, required: list[FieldDef]) -> None:
        missing = [f.name for f in required if record.get(f.name) is None]
        if missing:
            raise dml_error(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _derive(self, obj: ObjectDef, record: Record) -> None:
        if obj.name in PERSON_OBJECTS:
            record["Name"] = " ".join(
                p for p in (record.get("FirstName"), record.get("LastName")) if p
            )
        if obj.name in CLOSED_STATUS:
            record["IsClosed"] = record.get("Status") == CLOSED_STATUS[obj.name]
        campaigns.derive(obj.name, record)

    def _check_who_what(self, obj: ObjectDef, record: Record) -> None:
        """A Task whose WhoId is a Lead has no WhatId [S17]."""
        who, what = record.get("WhoId"), record.get("WhatId")
        if obj.name == "Task" and who and what and str(who).startswith("00Q"):
            raise dml_error(
                "FIELD_INTEGRITY_EXCEPTION",
                "field integrity exception: WhoId, WhatId (a lead cannot have a related to)",
                ["WhoId", "WhatId"],
            )

    def _check_unique(self, obj: ObjectDef, record: Record, written: list[FieldDef]) -> None:
        """DUPLICATE_VALUE when a unique field takes a value another record has (the
        index is case-insensitive, as a unique field is by default) [S11]."""
        for f in written:
            value = record.get(f.name)
            if not f.unique or value is None or value == "":
                continue
            holders = self.store.records.lookup(self.org.id, obj.name, f.name, [str(value)])
            other = next((h for h in holders if h != record.get("Id")), None)
            if other is not None:
                raise dml_error(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record with id: {other}",
                    [f.name],
                )

    def _check_references(self, obj: ObjectDef, record: Record, written: list[FieldDef]) -> None:
        for f in written:
            target = record.get(f.name)
            if f.type != "reference" or target is None:
                continue
            stored = self.store.records.get(self.org.id, target)
            if stored is None or stored.deleted:
                raise dml_error(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name]
                )
            if (
                f.name == "OwnerId"
                and stored.sobject == "User"
                and not stored.data.get("IsActive", True)
            ):
                # [S18]
                raise dml_error(
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{target}] as owner of "
                    f"[{obj.name.lower()}]",
                    [f.name],
                )
            if stored.sobject == "Lead" and stored.data.get("IsConverted"):
                # [S9]: a converted Lead can be referenced by nothing new.
                raise dml_error(
                    "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [f.name]
                )


def external_id_field(obj: ObjectDef, name: str) -> FieldDef:
    """The field an upsert or external-id GET names; it must be Id or an external id."""
    f = obj.field(name)
    if f is None or not (f.external_id or f.name == "Id"):
        raise SalesforceError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {name}",
        )
    return f
