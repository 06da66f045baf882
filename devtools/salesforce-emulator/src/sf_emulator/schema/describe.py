"""describeGlobal and describe payloads, shaped like Salesforce's (the keys clients read)."""

from __future__ import annotations

from typing import Any

from sf_emulator.schema.catalog import Catalog
from sf_emulator.schema.fields import NUMBER_TYPES, SOAP_TYPES, FieldDef, ObjectDef


def _urls(obj: ObjectDef, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def object_summary(obj: ObjectDef, version: str) -> dict[str, Any]:
    """One entry of describeGlobal's `sobjects`."""
    return {
        "activateable": False,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name in {"Account", "Contact", "Lead"},
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj, version),
    }


def describe_global(catalog: Catalog, version: str) -> dict[str, Any]:
    objs = sorted(catalog.objects.values(), key=lambda o: o.name)
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(o, version) for o in objs],
    }


def describe_field(f: FieldDef) -> dict[str, Any]:
    text_like = f.type not in NUMBER_TYPES | {"boolean", "date", "datetime", "base64"}
    return {
        "aggregatable": f.type not in {"textarea", "base64"},
        "autoNumber": f.auto_number,
        "byteLength": f.length * 3 if text_like else 0,
        "calculated": f.calculated,
        "caseSensitive": False,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default,
        "defaultedOnCreate": f.defaulted_on_create,
        "digits": 9 if f.type == "int" else 0,
        "externalId": f.external_id,
        "filterable": f.type not in {"textarea", "base64"},
        "groupable": f.type not in {"textarea", "base64", "double", "datetime"},
        "idLookup": f.id_lookup,
        "label": f.display_label,
        "length": f.length if text_like else 0,
        "name": f.name,
        "nameField": f.name == "Name",
        "nillable": f.nillable,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": v == f.default,
                "label": v,
                "validFor": None,
                "value": v,
            }
            for v in f.picklist
        ],
        "polymorphicForeignKey": f.polymorphic,
        "restrictedPicklist": f.restricted,
        "precision": 18 if f.type in {"double", "currency", "percent"} else 0,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "scale": 2 if f.type in {"double", "currency", "percent"} else 0,
        "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.type not in {"textarea", "base64"},
        "type": f.type,
        "unique": f.unique,
        "updateable": f.updateable,
    }


def describe_object(obj: ObjectDef, version: str) -> dict[str, Any]:
    out = object_summary(obj, version)
    out["fields"] = [describe_field(f) for f in obj.fields.values()]
    out["childRelationships"] = []
    out["recordTypeInfos"] = []
    out["supportedScopes"] = [{"label": "All", "name": "everything"}]
    return out
