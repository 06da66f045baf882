"""Query results and describe results as the contract's replies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from chat_contracts.base import SALESFORCE_ID_PATTERN, JsonScalar
from chat_contracts.bot_replies import (
    ObjectDescriptionReply,
    ObjectListReply,
    RecordFoundReply,
    RecordNotFoundReply,
    SObjectFieldInfo,
    SObjectSummary,
)
from chat_salesforce.schema import ObjectSchema, ObjectSummary

_ID = re.compile(SALESFORCE_ID_PATTERN)


def found_reply(
    tenant_id: str, result: Mapping[str, Any], save: Mapping[str, str]
) -> RecordFoundReply | RecordNotFoundReply:
    """`found` with the first record's saved fields, or `not_found`."""
    records = result.get("records") or []
    if not records:
        if result.get("totalSize", 0) and not result.get("records"):
            return RecordFoundReply(tenant_id=tenant_id)  # SELECT COUNT() that counted some
        return RecordNotFoundReply(tenant_id=tenant_id)
    record = records[0]
    return RecordFoundReply(
        tenant_id=tenant_id,
        record_id=record_id(record),
        variables={variable: value_at(record, path) for path, variable in save.items()},
    )


def record_id(record: Mapping[str, Any]) -> str | None:
    """The record's Id: selected, or the last part of its `attributes.url`."""
    candidate = record.get("Id")
    if not isinstance(candidate, str):
        url = (record.get("attributes") or {}).get("url")
        candidate = url.rsplit("/", 1)[-1] if isinstance(url, str) else None
    return candidate if isinstance(candidate, str) and _ID.match(candidate) else None


def value_at(record: Mapping[str, Any], path: str) -> JsonScalar:
    """The value under a field path (`Account.Name`), matching names in any case;
    null when a relationship on the way is empty; compound values as JSON text."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        lowered = part.lower()
        value = next((v for k, v in value.items() if k.lower() == lowered), None)
    if isinstance(value, Mapping):
        return json.dumps({k: v for k, v in value.items() if k != "attributes"})
    if isinstance(value, list):
        return json.dumps(value)
    return value  # type: ignore[no-any-return]


def object_list_reply(tenant_id: str, objects: Iterable[ObjectSummary]) -> ObjectListReply:
    """list_objects' answer."""
    return ObjectListReply(
        tenant_id=tenant_id,
        objects=tuple(
            SObjectSummary(
                name=o.name,
                label=o.label,
                createable=o.createable,
                queryable=o.queryable,
                updateable=o.updateable,
            )
            for o in objects
        ),
    )


def description_reply(tenant_id: str, schema: ObjectSchema) -> ObjectDescriptionReply:
    """describe_object's answer: every field, the required ones marked."""
    return ObjectDescriptionReply(
        tenant_id=tenant_id,
        object=schema.name,
        fields=tuple(
            SObjectFieldInfo(
                name=f.name,
                label=f.label,
                type=f.type,
                length=f.length,
                required=f.required,
                createable=f.createable,
                updateable=f.updateable,
                picklist_values=f.picklist_values,
            )
            for f in schema.fields
        ),
    )
