"""Field and object definitions, with the few attributes describe reports and DML obeys."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# Field types whose values are strings; `=` on them is case-insensitive in SOQL.
STRING_TYPES = frozenset(
    {"string", "email", "phone", "url", "textarea", "picklist", "multipicklist", "combobox"}
)
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
ID_TYPES = frozenset({"id", "reference"})

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "base64": "xsd:base64Binary",
}


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject; `required` follows Salesforce's own rule."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default: Any = None
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    """A restricted picklist takes only its values over the API [S12]."""
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    external_id: bool = False
    id_lookup: bool = False
    unique: bool = False
    custom: bool = False
    calculated: bool = False
    auto_number: bool = False
    # Ours, not Salesforce's: the emulator keeps a lookup index for this field.
    indexed: bool = False

    @property
    def required(self) -> bool:
        return self.createable and not self.nillable and not self.defaulted_on_create

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1

    @property
    def display_label(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type: its key prefix, its fields (by lower-case name) and its verbs."""

    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    custom: bool = False

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind a relationship name (`Owner` -> `OwnerId`)."""
        lower = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == lower:
                return f
        return None

    @property
    def indexed_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.indexed or f.external_id or f.unique]


def make_object(
    name: str, prefix: str, plural: str, fields: list[FieldDef], **flags: bool
) -> ObjectDef:
    return ObjectDef(name, prefix, name, plural, {f.name.lower(): f for f in fields}, **flags)


def text(name: str, length: int = 255, **kw: Any) -> FieldDef:
    return FieldDef(name, kw.pop("type", "string"), length=length, **kw)


def long_text(name: str, length: int = 32000, **kw: Any) -> FieldDef:
    return FieldDef(name, "textarea", length=length, **kw)


def picklist(name: str, values: tuple[str, ...], default: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(
        name,
        "picklist",
        length=255,
        picklist=values,
        default=default,
        defaulted_on_create=default is not None,
        **kw,
    )


def ref(name: str, *to: str, **kw: Any) -> FieldDef:
    rel = kw.pop("relationship_name", name[:-2] if name.endswith("Id") else None)
    return FieldDef(name, "reference", length=18, reference_to=to, relationship_name=rel, **kw)


def read_only(f: FieldDef) -> FieldDef:
    """The same field, not writable through the API (system and computed fields)."""
    return replace(f, createable=False, updateable=False)


def system_fields(owner_to: tuple[str, ...] | None = ("User",)) -> list[FieldDef]:
    """Id, audit fields and (unless `owner_to` is None) OwnerId, as every object has."""
    fields = [
        FieldDef(
            "Id",
            "id",
            length=18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
            id_lookup=True,
        ),
        read_only(FieldDef("IsDeleted", "boolean", nillable=False, defaulted_on_create=True)),
        read_only(FieldDef("CreatedDate", "datetime", nillable=False, defaulted_on_create=True)),
        read_only(ref("CreatedById", "User", nillable=False, defaulted_on_create=True)),
        read_only(
            FieldDef("LastModifiedDate", "datetime", nillable=False, defaulted_on_create=True)
        ),
        read_only(ref("LastModifiedById", "User", nillable=False, defaulted_on_create=True)),
        read_only(FieldDef("SystemModstamp", "datetime", nillable=False, defaulted_on_create=True)),
    ]
    if owner_to:
        fields.append(ref("OwnerId", *owner_to, nillable=False, defaulted_on_create=True))
    return fields
