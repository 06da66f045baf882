"""An org's object catalog: the standard objects plus the custom fields it declares."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sf_emulator.errors import SalesforceError
from sf_emulator.schema.fields import FieldDef, ObjectDef
from sf_emulator.schema.person_accounts import record_type, with_person_accounts
from sf_emulator.schema.standard import standard_objects

# Key prefixes of objects that references may name but the emulator does not store.
OTHER_PREFIXES = {"00G": "Group", "006": "Opportunity"}
CUSTOM_TYPES = frozenset(
    {
        "string",
        "email",
        "phone",
        "url",
        "textarea",
        "picklist",
        "multipicklist",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "reference",
    }
)
_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*__c$")
_DEFAULT_LENGTH = {
    "string": 255,
    "email": 80,
    "phone": 40,
    "url": 255,
    "textarea": 32000,
    "picklist": 255,
    "multipicklist": 4099,
}


class Catalog:
    """Object definitions for one org, looked up case-insensitively as SOQL does."""

    def __init__(
        self, custom_fields: list[dict[str, Any]] | None = None, person_accounts: bool = False
    ) -> None:
        objects = standard_objects()
        objects["recordtype"] = record_type()
        if person_accounts:
            with_person_accounts(objects)
        self.person_accounts = person_accounts
        for spec in custom_fields or []:
            obj = objects.get(str(spec.get("object", "")).lower())
            if obj is None:
                raise ValueError(f"custom field on unknown object: {spec.get('object')!r}")
            f = custom_field(spec)
            objects[obj.name.lower()] = replace(obj, fields={**obj.fields, f.name.lower(): f})
        self.objects = objects
        self.by_prefix = {o.key_prefix: o for o in objects.values()}

    def get(self, name: str) -> ObjectDef | None:
        return self.objects.get(name.lower())

    def require(self, name: str) -> ObjectDef:
        """The object named in a REST path; unknown names are 404 as in Salesforce."""
        obj = self.get(name)
        if obj is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    def type_of_id(self, record_id: str) -> str | None:
        prefix = record_id[:3]
        obj = self.by_prefix.get(prefix)
        return obj.name if obj else OTHER_PREFIXES.get(prefix)


def custom_field(spec: dict[str, Any]) -> FieldDef:
    """A custom field from the admin API's declaration (see README)."""
    name = str(spec.get("name", ""))
    ftype = str(spec.get("type", "string")).lower()
    if not _CUSTOM_NAME.match(name):
        raise ValueError(f"custom field names end in __c: {name!r}")
    if ftype not in CUSTOM_TYPES:
        raise ValueError(f"unsupported custom field type {ftype!r} for {name}")
    external = bool(spec.get("external_id", False))
    values = tuple(str(v) for v in spec.get("picklist", ()))
    default = spec.get("default")
    reference_to = tuple(str(t) for t in spec.get("reference_to", ()))
    if ftype == "reference" and not reference_to:
        raise ValueError(f"reference field {name} needs reference_to")
    return FieldDef(
        name,
        ftype,
        label=str(spec.get("label") or name[:-3].replace("_", " ")),
        length=int(spec.get("length", _DEFAULT_LENGTH.get(ftype, 0))),
        nillable=not spec.get("required", False) and ftype != "boolean",
        defaulted_on_create=default is not None or ftype == "boolean",
        default=default if default is not None else (False if ftype == "boolean" else None),
        picklist=values,
        restricted=bool(spec.get("restricted", False)) and ftype in ("picklist", "multipicklist"),
        reference_to=reference_to,
        relationship_name=name[:-3] + "__r" if ftype == "reference" else None,
        external_id=external,
        id_lookup=external,
        unique=bool(spec.get("unique", False)),
        custom=True,
        indexed=external or bool(spec.get("unique", False)),
    )
