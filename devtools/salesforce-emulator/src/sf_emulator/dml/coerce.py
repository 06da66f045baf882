"""Checking and normalising one field value as Salesforce's JSON deserializer does."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from sf_emulator import ids, values
from sf_emulator.errors import SalesforceError, dml_error, json_parser_error
from sf_emulator.schema.catalog import Catalog
from sf_emulator.schema.fields import STRING_TYPES, FieldDef

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _deserialize_error(kind: str, value: Any) -> SalesforceError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT"
    return json_parser_error(
        f"Cannot deserialize instance of {kind} from {token} value {value} "
        "or request may be missing a required field"
    )


def _check_restricted(f: FieldDef, text: str) -> None:
    parts = text.split(";") if f.type == "multipicklist" else [text]
    for part in parts:
        if part not in f.picklist:
            raise dml_error(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{f.display_label}: bad value for restricted picklist field: {part}",
                [f.name],
            )


def text_length(text: str, utf16: bool) -> int:
    """A text's length as the org counts it: code points, or UTF-16 code units (a
    character outside the Basic Multilingual Plane counts two)."""
    return len(text.encode("utf-16-le")) // 2 if utf16 else len(text)


def coerce(f: FieldDef, value: Any, catalog: Catalog, *, utf16: bool = False) -> Any:
    """The stored form of `value` for field `f`, or a Salesforce error."""
    if value is None:
        return False if f.type == "boolean" else None
    if isinstance(value, dict | list):
        raise json_parser_error(f"Cannot deserialize instance of {f.type} from START_OBJECT")
    if f.type in STRING_TYPES:
        text = _string(f, value, utf16)
        if f.restricted and text is not None:
            _check_restricted(f, str(text))
        return text
    if f.type == "boolean":
        if not isinstance(value, bool):
            raise _deserialize_error("boolean", value)
        return value
    if f.type in {"int", "double", "currency", "percent"}:
        return _number(f, value)
    if f.type == "date":
        if not isinstance(value, str) or values.parse_date(value) is None:
            raise _deserialize_error("date", value)
        return value
    if f.type == "datetime":
        normal = values.normalize_datetime(value) if isinstance(value, str) else None
        if normal is None:
            raise _deserialize_error("datetime", value)
        return normal
    if f.type == "reference":
        return _reference(f, value, catalog)
    if f.type == "base64":
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise json_parser_error(f"Illegal base64 value for field {f.name}") from None
        return str(value)
    return value


def _string(f: FieldDef, value: Any, utf16: bool) -> str | None:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = str(value)
    if text == "":
        # Salesforce stores an empty string as null: "" does not satisfy a required field.
        return None
    if text_length(text, utf16) > f.length:
        raise dml_error(
            "STRING_TOO_LONG",
            f"{f.display_label}: data value too large: {text[:30]} (max length={f.length})",
            [f.name],
        )
    if f.type == "email" and not _EMAIL.match(text):
        raise dml_error(
            "INVALID_EMAIL_ADDRESS", f"{f.display_label}: invalid email address: {text}", [f.name]
        )
    return text


def _number(f: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _deserialize_error("double" if f.type != "int" else "int", value)
    if f.type == "int":
        if isinstance(value, float) and not value.is_integer():
            raise _deserialize_error("int", value)
        return int(value)
    return float(value)


def _reference(f: FieldDef, value: Any, catalog: Catalog) -> str | None:
    text = str(value)
    if text == "":
        return None
    if not ids.is_id(text) or catalog.type_of_id(text) not in f.reference_to:
        raise dml_error(
            "MALFORMED_ID", f"{f.display_label}: id value of incorrect type: {text}", [f.name]
        )
    return ids.to18(text)
