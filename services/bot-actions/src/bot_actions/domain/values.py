"""Placeholder resolution for plain values, and values as typed SOQL literals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from bot_actions.domain.errors import ActionError, validation
from chat_contracts.base import JsonScalar
from chat_salesforce.schema import DATE_TYPES, NUMBER_TYPES, FieldSchema
from chat_salesforce.soql import format_number, quote
from chat_salesforce.templates import TemplateError, UnknownPlaceholders, as_text, substitute

# Salesforce numbers have at most 18 digits; an exponent far beyond that is no number a
# field holds, and written out in plain notation (SOQL has no exponents) it would be a
# string of that many digits: 1e999999999 is a gigabyte.
_MAX_EXPONENT = 40
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$")


def resolve(value: JsonScalar, variables: Mapping[str, JsonScalar]) -> JsonScalar:
    """`value` with its `{!Name}` placeholders resolved (non-strings pass through)."""
    if not isinstance(value, str):
        return value
    try:
        return substitute(value, variables)
    except UnknownPlaceholders as exc:
        raise validation(str(exc), exc.names) from None
    except TemplateError as exc:
        raise validation(str(exc)) from None


def resolve_all(
    values: Mapping[str, JsonScalar], variables: Mapping[str, JsonScalar]
) -> dict[str, JsonScalar]:
    """Every value resolved; all unknown placeholders are reported together."""
    out: dict[str, JsonScalar] = {}
    unknown: list[str] = []
    for name, value in values.items():
        try:
            out[name] = resolve(value, variables)
        except ActionError as exc:
            if not exc.fields:
                raise
            unknown += [f for f in exc.fields if f not in unknown]
    if unknown:
        raise validation(str(UnknownPlaceholders(tuple(unknown))), unknown)
    return out


def is_blank(value: JsonScalar) -> bool:
    """What Salesforce stores as null: null, or a string of nothing but whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def literal_for(field: FieldSchema, value: JsonScalar) -> str:
    """The SOQL literal comparing `field` with `value`, typed by the field.

    Numbers, booleans, dates and datetimes are written unquoted only after they are
    checked to be one (a number from its parsed value, a date against its pattern), so
    no text reaches the query outside quotes; everything else is an escaped string.
    """
    if value is None:
        return "null"
    if field.type in NUMBER_TYPES:
        return _number(field, value)
    if field.type == "boolean":
        text = as_text(value).strip().lower()
        if text not in {"true", "false"}:
            raise validation(f"{field.name} is a checkbox: true or false", [field.name])
        return text
    if field.type in DATE_TYPES:
        text = as_text(value).strip()
        pattern = _DATE if field.type == "date" else _DATETIME
        if field.type == "time" or not pattern.match(text):
            raise validation(f"{field.name} needs an ISO {field.type}", [field.name])
        return text
    return quote(as_text(value))


def writable(field: FieldSchema, value: JsonScalar) -> JsonScalar:
    """The value to write into `field`, checked against its type before any call: a
    number, checkbox, date or datetime must be one, and a picklist value takes the org's
    spelling (a restricted picklist's must be one of its values)."""
    if is_blank(value):
        return value
    if field.type in NUMBER_TYPES or field.type == "boolean" or field.type in DATE_TYPES:
        literal_for(field, value)  # raises a validation error naming the field
        return value
    if field.type in ("picklist", "multipicklist") and field.picklist_values:
        known = {v.casefold(): v for v in field.picklist_values}
        parts = [p.strip() for p in as_text(value).split(";")]
        if field.type == "picklist":
            parts = [as_text(value).strip()]
        found = [known.get(p.casefold()) for p in parts]
        if field.restricted_picklist and None in found:
            bad = next(p for p, f in zip(parts, found, strict=True) if f is None)
            allowed = ", ".join(field.picklist_values)
            raise validation(
                f"{field.name}: {bad!r} is not one of its values ({allowed})"[:500],
                [field.name],
            )
        return ";".join(f or p for p, f in zip(parts, found, strict=True))
    return value


def _number(field: FieldSchema, value: JsonScalar) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    try:
        number = Decimal(as_text(value).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise validation(f"{field.name} is a number", [field.name])
    if number and abs(number.adjusted()) > _MAX_EXPONENT:
        raise validation(f"{field.name}: a number out of any field's range", [field.name])
    return format(number, "f")
