"""The update policy for an existing Lead or Contact, as the product offers it: do not
update; update with information from the chat; only fill fields that are empty.

Only what the visitor actually gave is offered (never a placeholder or a fallback name),
Email and the owner are never changed, and a phone already stored in another spelling of
the same number is not rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chat_contracts.chat import Conversation
from chat_contracts.settings import FieldMappingRule, UpdatePolicy
from crm_sync.domain.mapping import fit, mapped_fields
from crm_sync.domain.salesforce import FieldValue
from crm_sync.domain.schema import ObjectSchema
from crm_sync.domain.visitor import normalise_phone, phone

PHONE_FIELDS = frozenset({"phone", "mobilephone"})


def offered(
    conversation: Conversation, schema: ObjectSchema, rules: Iterable[FieldMappingRule]
) -> dict[str, FieldValue]:
    """What the chat has to say about the person, cut to the fields' lengths."""
    visitor = conversation.visitor
    values: dict[str, FieldValue] = {
        "FirstName": visitor.first_name,
        "LastName": visitor.last_name,
        "Phone": phone(conversation),
    }
    if schema.name == "Lead":
        values["Company"] = visitor.company
    # Constants (a LeadSource, a Status, a record type) describe a new record: offering
    # them would rewrite what the org's people have changed since.
    sourced = [rule for rule in rules if rule.value is None]
    values.update(mapped_fields(conversation, sourced, schema))
    writable = {
        k: v
        for k, v in values.items()
        if v not in (None, "") and (not schema.fields or _updateable(schema, k))
    }
    return fit(schema.name, writable, schema)[0]


def _updateable(schema: ObjectSchema, name: str) -> bool:
    spec = schema.field(name)
    return spec is not None and spec.updateable


def _current(values: Mapping[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in values.items() if k.lower() == lowered), None)


def _same(name: str, old: Any, new: FieldValue, region: str) -> bool:
    if old == new:
        return True
    if name.lower() in PHONE_FIELDS and isinstance(old, str) and isinstance(new, str):
        stored = normalise_phone(old, region)
        return stored is not None and stored == normalise_phone(new, region)
    return False


def changes(
    policy: UpdatePolicy,
    current: Mapping[str, Any] | None,
    values: Mapping[str, FieldValue],
    region: str,
) -> dict[str, FieldValue]:
    """The fields to write to an existing record (empty: leave it alone)."""
    if policy is UpdatePolicy.DO_NOT_UPDATE or current is None:
        return {}
    out: dict[str, FieldValue] = {}
    for name, new in values.items():
        old = _current(current, name)
        if policy is UpdatePolicy.FILL_EMPTY_ONLY:
            if old is None or old == "":
                out[name] = new
        elif not _same(name, old, new, region):
            out[name] = new
    return out


def merge(
    policy: UpdatePolicy, updates: Iterable[Mapping[str, FieldValue]]
) -> dict[str, FieldValue]:
    """Several chats of one person in a batch, oldest first: the newest value wins when
    updating from chats; the first one fills an empty field."""
    out: dict[str, FieldValue] = {}
    for update in updates:
        for name, value in update.items():
            if policy is UpdatePolicy.UPDATE_FROM_CHAT or name not in out:
                out[name] = value
    return out
