"""Constants and translated values of a field mapping, against the target field's describe.

crm-sync types every mapped value by its field and leaves out (and reports) what the field
cannot hold; a constant or a translation is known when the settings are saved, so auth
refuses such a value then, naming the rule. Stricter than crm-sync where that helps the
admin (a boolean is true or false, a date is ISO): a value that passes here is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any, Final

from chat_contracts.settings import FieldMappingRule

_BOOLEAN: Final = frozenset({"true", "false", "1", "0", "yes", "no", "y", "n", "on", "off"})
_INTEGER: Final = frozenset({"int", "long"})
_NUMBER: Final = frozenset({"double", "currency", "percent"})
_LARGEST: Final = 1e18  # Salesforce numbers hold at most 18 digits
_SALESFORCE_ID: Final = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def fixed_values(rule: FieldMappingRule, index: int) -> Iterator[tuple[str, str]]:
    """(where in the settings body, value) of every value the rule itself names."""
    prefix = f"field_mapping.{index}"
    if rule.value is not None:
        yield f"{prefix}.value", rule.value
    for key, value in (rule.translate or {}).items():
        yield f"{prefix}.translate.{key}", value
    if rule.default is not None:
        yield f"{prefix}.default", rule.default


def value_problem(
    sobject: str, field: Mapping[str, Any], value: str, describe: Mapping[str, Any]
) -> str | None:
    """Why `field` of `sobject` cannot hold `value` (None: it can)."""
    name = f"{sobject}.{field.get('name', '')}"
    kind = str(field.get("type", "string"))
    text = value.strip()
    if kind == "boolean" and text.lower() not in _BOOLEAN:
        return f"{name} takes true or false, not {value!r}"
    if kind in _INTEGER or kind in _NUMBER:
        number = _number(text)
        if number is None or (kind in _INTEGER and not number.is_integer()):
            whole = "a whole number" if kind in _INTEGER else "a number"
            return f"{name} takes {whole}, not {value!r}"
    if kind == "date" and not _parses(date.fromisoformat, text):
        return f"{name} takes a date (2024-05-31), not {value!r}"
    if kind == "datetime" and not _parses(datetime.fromisoformat, text):
        return f"{name} takes a date and time (2024-05-31T12:00:00Z), not {value!r}"
    if kind == "reference":
        return _reference_problem(sobject, name, field, text, describe)
    if kind in ("picklist", "multipicklist") and field.get("restrictedPicklist") is True:
        known = {str(v.get("value", "")).casefold() for v in _active(field)}
        parts = text.split(";") if kind == "multipicklist" else [text]
        missing = [p.strip() for p in parts if p.strip().casefold() not in known]
        if missing:
            return f"{name} has no value {missing[0]!r} (restricted picklist)"
    length = field.get("length")
    if isinstance(length, int) and length > 0 and _units(value) > length and kind != "reference":
        return f"{name} holds at most {length} characters"
    return None


def _reference_problem(
    sobject: str, name: str, field: Mapping[str, Any], text: str, describe: Mapping[str, Any]
) -> str | None:
    if _SALESFORCE_ID.match(text) is None:
        return f"{name} takes a Salesforce id, not {text!r}"
    infos = describe.get("recordTypeInfos") or ()
    if str(field.get("name", "")).lower() != "recordtypeid" or not infos:
        return None
    offered = {
        str(info.get("recordTypeId", ""))[:15]
        for info in infos
        if isinstance(info, Mapping) and info.get("available", True)
    }
    if text[:15] not in offered:
        return f"{sobject} has no record type {text} available"
    return None


def _active(field: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    values = field.get("picklistValues") or ()
    return [v for v in values if isinstance(v, Mapping) and v.get("active", True)]


def _number(text: str) -> float | None:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) < _LARGEST else None


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _units(text: str) -> int:
    """Length in UTF-16 units, as crm-sync cuts."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)
