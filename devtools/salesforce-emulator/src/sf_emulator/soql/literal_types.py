"""Literal values checked against the field they are compared with, and normalised to
the field's stored form, with Salesforce's messages for a value of the wrong type."""

from __future__ import annotations

from typing import Any

from sf_emulator import ids, values
from sf_emulator.errors import SalesforceError
from sf_emulator.schema.fields import ID_TYPES, NUMBER_TYPES, FieldDef
from sf_emulator.soql import ast
from sf_emulator.soql.dates import date_range
from sf_emulator.soql.parser import located


def fail(q: ast.Query, pos: ast.Pos, code: str, message: str) -> SalesforceError:
    return SalesforceError(400, code, located(q.text, pos.line, pos.column, message))


def literal_value(q: ast.Query, fp: ast.FieldPath, f: FieldDef, lit: ast.Literal) -> Any:
    """A literal in the stored form of `f`'s values (strings lower-cased), or an error."""
    if lit.kind == "null":
        # A boolean is never null: `= null` means `= false`, `!= null` means `= true` [S25].
        return False if f.type == "boolean" else None
    kind, quoted = _expected(f)
    ok = {
        "string": lit.kind == "string",
        "id": lit.kind == "string",
        "boolean": lit.kind == "boolean",
        "double": lit.kind == "number",
        "date": lit.kind in {"date", "date_literal"},
        "dateTime": lit.kind in {"datetime", "date_literal"},
    }[kind]
    if not ok:
        enclosed = "be enclosed in quotes" if quoted else "not be enclosed in quotes"
        raise fail(
            q,
            fp.pos,
            "INVALID_FIELD",
            f"value of filter criterion for field "
            f"'{f.name}' must be of type {kind} and should {enclosed}",
        )
    if kind == "string":
        return str(lit.value).lower()
    if kind == "id":
        if not ids.is_id(str(lit.value)):
            raise fail(q, fp.pos, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}")
        return ids.to18(str(lit.value))
    if lit.kind == "date_literal":
        return date_range(str(lit.value), datetime_field=kind == "dateTime")
    if kind == "dateTime":
        return values.normalize_datetime(str(lit.value))
    if kind == "date" and values.parse_date(str(lit.value)) is None:
        raise fail(q, fp.pos, "MALFORMED_QUERY", f"invalid date: {lit.raw}")
    return lit.value


def _expected(f: FieldDef) -> tuple[str, bool]:
    if f.type in ID_TYPES:
        return "id", True
    if f.type == "boolean":
        return "boolean", False
    if f.type in NUMBER_TYPES:
        return "double", False
    if f.type == "date":
        return "date", False
    if f.type == "datetime":
        return "dateTime", False
    return "string", True
