"""The parts of an org's describe crm-sync relies on: which fields exist, their types and
lengths, and where files may be published. Lookups ignore case, as Salesforce does."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox"}
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: API name, type, length (text), whether it can be written."""

    name: str
    type: str = "string"
    length: int | None = None
    createable: bool = True
    updateable: bool = True
    reference_to: tuple[str, ...] = ()
    picklist: tuple[str, ...] = ()
    """The active values of a picklist."""
    restricted: bool = False
    """A restricted picklist: Salesforce refuses any other value."""
    external_id: bool = False
    unique: bool = False
    """Salesforce refuses a second record with the same value (`DUPLICATE_VALUE`)."""


@dataclass(frozen=True, slots=True)
class ObjectSchema:
    """One object's fields, by lower-cased name."""

    name: str
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)

    def field(self, name: str) -> FieldSpec | None:
        """The field named `name` (any case), if the object has it."""
        return self.fields.get(name.lower())

    def has(self, name: str) -> bool:
        """Whether the object has the field."""
        return name.lower() in self.fields

    def text_limit(self, name: str) -> int | None:
        """Maximum length of a text field, None when unknown or not text."""
        spec = self.field(name)
        if spec is None or spec.type not in TEXT_TYPES or not spec.length:
            return None
        return spec.length


def parse_describe(describe: Mapping[str, Any]) -> ObjectSchema:
    """`GET /sobjects/{Obj}/describe` as an `ObjectSchema`."""
    fields = {}
    for raw in describe.get("fields", ()):
        spec = FieldSpec(
            name=str(raw["name"]),
            type=str(raw.get("type", "string")),
            length=int(raw["length"]) if raw.get("length") else None,
            createable=bool(raw.get("createable", False)),
            updateable=bool(raw.get("updateable", False)),
            reference_to=tuple(str(r) for r in raw.get("referenceTo") or ()),
            picklist=tuple(
                str(v["value"])
                for v in raw.get("picklistValues") or ()
                if isinstance(v, Mapping) and v.get("active", True) and v.get("value")
            ),
            restricted=bool(raw.get("restrictedPicklist", False)),
            external_id=bool(raw.get("externalId", False)),
            unique=bool(raw.get("unique", False)),
        )
        fields[spec.name.lower()] = spec
    return ObjectSchema(str(describe.get("name", "")), fields)


class SharedSchemas:
    """One copy of each distinct object schema, however many orgs describe it: most orgs'
    Lead, Contact, Task, Case and ContentVersion describe alike, and with thousands of
    tenants a copy per tenant is most of crm-sync's memory. At most `max_entries` distinct
    schemas are remembered (the least recently seen forgotten first); a forgotten one is only
    shared no more."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._seen: OrderedDict[tuple[str, tuple[FieldSpec, ...]], ObjectSchema] = OrderedDict()

    def intern(self, schema: ObjectSchema) -> ObjectSchema:
        """The shared copy of `schema` (itself, the first time it is seen)."""
        key = (schema.name, tuple(schema.fields.values()))
        found = self._seen.get(key)
        if found is not None:
            self._seen.move_to_end(key)
            return found
        self._seen[key] = schema
        if len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return schema

    def __len__(self) -> int:
        return len(self._seen)


@dataclass(frozen=True, slots=True)
class OrgSchema:
    """The described objects of one org, by lower-cased name."""

    objects: Mapping[str, ObjectSchema] = field(default_factory=dict)

    def obj(self, name: str) -> ObjectSchema:
        """The object's schema; an empty one (no known fields) when not described."""
        return self.objects.get(name.lower(), ObjectSchema(name))

    def chat_id_field(self, activity: str, wanted: str) -> str | None:
        """`wanted` (the configured external-id field) when the activity object has it."""
        spec = self.obj(activity).field(wanted)
        return spec.name if spec is not None else None

    def unique_key(self, activity: str, name: str) -> bool:
        """Whether the activity's field `name` is an External ID and Unique: Salesforce
        itself refuses a second record of a chat (`DUPLICATE_VALUE`)."""
        spec = self.obj(activity).field(name)
        return spec is not None and spec.external_id and spec.unique

    def files_on(self, activity: str) -> bool:
        """Whether a file can be published on the activity itself (else on the person)."""
        location = self.obj("ContentVersion").field("FirstPublishLocationId")
        return location is not None and activity in location.reference_to
