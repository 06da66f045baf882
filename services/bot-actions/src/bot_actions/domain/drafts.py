"""create_record: the record to write, checked against the object's describe first.

Before any write: every field exists and is createable, the required fields (createable,
not nillable, not defaulted) have values, and `update_if_exists` names a field that is
among the values and can be filtered on. A failure names the fields it is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot_actions.domain.errors import ActionError, unknown_fields, validation
from bot_actions.domain.queries import first_order
from bot_actions.domain.values import is_blank, literal_for, resolve_all, writable
from chat_contracts.base import JsonScalar
from chat_contracts.bot import CreateRecordRequest
from chat_contracts.bot_replies import BotErrorCode
from chat_salesforce.schema import FieldSchema, ObjectSchema


@dataclass(frozen=True, slots=True)
class Draft:
    """A record ready to write: canonical field names, placeholders resolved."""

    object: str
    fields: Mapping[str, JsonScalar]
    match_field: str | None = None

    @property
    def match_value(self) -> JsonScalar:
        """The value an existing record is looked up by (None when not matching)."""
        return self.fields.get(self.match_field) if self.match_field else None


def draft_record(schema: ObjectSchema, request: CreateRecordRequest) -> Draft:
    """The record `request` asks for, or an `ActionError` saying what is wrong with it."""
    if not schema.createable:
        raise validation(f"{schema.name} records cannot be created")
    unknown = [name for name in request.fields if schema.field(name) is None]
    if unknown:
        raise unknown_fields(schema.name, unknown)
    values = resolve_all(request.fields, request.variables)
    fields = {_canonical(schema, name): value for name, value in values.items()}
    locked = [name for name in fields if not _field(schema, name).createable]
    if locked:
        raise validation(f"{schema.name} fields not settable: {', '.join(locked)}", locked)
    fields = {name: writable(_field(schema, name), value) for name, value in fields.items()}
    missing = [f.name for f in schema.required_fields if is_blank(fields.get(f.name))]
    if missing:
        raise ActionError(
            BotErrorCode.REQUIRED_FIELDS_MISSING,
            f"{schema.name} needs {', '.join(missing)}",
            missing,
        )
    match = request.update_if_exists
    if match is None:
        return Draft(schema.name, fields)
    field = schema.field(match.match_field)
    if field is None:
        raise unknown_fields(schema.name, [match.match_field])
    if field.name not in fields:
        raise validation(f"match field {field.name} needs a value in fields", [field.name])
    if not field.filterable:
        raise validation(f"{schema.name}.{field.name} cannot be searched", [field.name])
    return Draft(schema.name, fields, field.name)


def match_query(schema: ObjectSchema, draft: Draft) -> str | None:
    """The query finding the record to update, or None when there is nothing to match on."""
    if draft.match_field is None or is_blank(draft.match_value):
        return None
    field = _field(schema, draft.match_field)
    return (
        f"SELECT Id FROM {schema.name} WHERE {field.name} = "  # noqa: S608 - names from describe
        f"{literal_for(field, draft.match_value)} ORDER BY {first_order(schema)} LIMIT 1"
    )


def update_values(schema: ObjectSchema, draft: Draft) -> dict[str, JsonScalar]:
    """The values an update may send: the draft's updateable fields (create-only fields,
    such as some lookups, are set when a record is created and left alone after)."""
    return {name: v for name, v in draft.fields.items() if _field(schema, name).updateable}


def _canonical(schema: ObjectSchema, name: str) -> str:
    return _field(schema, name).name


def _field(schema: ObjectSchema, name: str) -> FieldSchema:
    found = schema.field(name)
    assert found is not None, name  # checked by draft_record
    return found
