"""Conversation values into Salesforce fields: the tenant's field mapping (custom `__c`
fields too), typed by describe, and every text cut to the length its field allows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from chat_contracts.chat import Conversation
from chat_contracts.settings import FieldMappingRule
from crm_sync.domain.salesforce import FieldValue
from crm_sync.domain.schema import FieldSpec, ObjectSchema
from crm_sync.domain.text import sf_cut, sf_length

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_INTEGER_TYPES = frozenset({"int", "long"})
_NUMBER_TYPES = frozenset({"double", "currency", "percent"})
# Salesforce numbers hold at most 18 digits: anything larger no field accepts.
_LARGEST = 1e18


def source_value(conversation: Conversation, source: str) -> Any:
    """The value a mapping's `source` names (`visitor.email`, `custom_fields.Plan`, ...)."""
    head, _, rest = source.partition(".")
    if head in {"custom_fields", "custom_variables"}:
        values: Mapping[str, str] = getattr(conversation, head)
        return values.get(rest)
    value: Any = getattr(conversation, head, None)
    if rest:
        value = getattr(value, rest, None) if value is not None else None
    return value


def coerce(value: Any, field_type: str | None) -> FieldValue:
    """A source value in the JSON form a field of `field_type` accepts (None: leave out).
    Several values (a chat's tags) are one multi-select value, else a list for people."""
    if isinstance(value, tuple | list):
        separator = ";" if field_type == "multipicklist" else ", "
        value = separator.join(str(v) for v in value if v not in (None, ""))
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if field_type == "date" else value.isoformat()
    text = str(value)
    if field_type == "boolean":
        return text.strip().lower() in _TRUE
    if field_type in _INTEGER_TYPES or field_type in _NUMBER_TYPES:
        return _number(text, integer=field_type in _INTEGER_TYPES)
    return text


def _number(text: str, *, integer: bool) -> int | float | None:
    """A visitor's text as a number a Salesforce field can hold; None when it is none
    (`nan`, `inf`, `1e400` parse as floats, but are no number JSON or Salesforce has)."""
    try:
        number = float(text.replace(",", "").strip())
    except ValueError:
        return None
    if not math.isfinite(number) or abs(number) >= _LARGEST:
        return None
    return int(number) if integer else number


def mapped_fields(
    conversation: Conversation,
    rules: Iterable[FieldMappingRule],
    schema: ObjectSchema,
    dropped: set[str] | None = None,
) -> dict[str, FieldValue]:
    """The mapping's values for one object: a source's value (translated when the rule
    says so) or a constant. A target the org does not have (when its describe is known)
    is left out rather than failing the whole record; so is a value its field cannot hold
    (not a number, not a value of a restricted picklist), named in `dropped` as
    `Object.Field`. A picklist value takes the org's spelling of it."""
    out: dict[str, FieldValue] = {}
    for rule in rules:
        if rule.object != schema.name:
            continue
        spec = schema.field(rule.target)
        if schema.fields and spec is None:
            continue
        wanted = rule_value(conversation, rule)
        value = coerce(wanted, spec.type if spec else None)
        if spec is not None and isinstance(value, str) and spec.picklist:
            value = picklist_value(value, spec)
        name = spec.name if spec else rule.target
        if value is not None:
            out[name] = value
        elif wanted not in (None, "", ()) and dropped is not None:
            dropped.add(f"{schema.name}.{name}")
    return out


def rule_value(conversation: Conversation, rule: FieldMappingRule) -> Any:
    """What a rule asks to write, before typing: its constant, or its source's value
    translated (None, or no values, when a translation leaves it out)."""
    if rule.value is not None:
        return rule.value
    value = source_value(conversation, rule.source or "")
    if rule.translate is None or value in (None, ""):
        return value
    table = {k.strip().casefold(): v for k, v in rule.translate.items()}
    if isinstance(value, tuple | list):
        found = (_translated(v, table, rule.default) for v in value)
        return tuple(dict.fromkeys(v for v in found if v is not None))
    return _translated(value, table, rule.default)


def _translated(value: Any, table: Mapping[str, str], default: str | None) -> str | None:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return table.get(text.strip().casefold(), default)


def picklist_value(value: str, spec: FieldSpec) -> str | None:
    """The org's spelling of a picklist value (any case); for a restricted picklist, None
    when the value is not one of its values (multi-select: each value checked)."""
    known = {v.casefold(): v for v in spec.picklist}
    if spec.type == "multipicklist":
        parts = [known.get(p.strip().casefold(), p.strip()) for p in value.split(";")]
        if spec.restricted and any(p.casefold() not in known for p in parts):
            return None
        return ";".join(parts)
    found = known.get(value.strip().casefold())
    if found is not None:
        return found
    return None if spec.restricted else value


def fit(
    sobject: str,
    fields: Mapping[str, FieldValue],
    schema: ObjectSchema,
    limits: Mapping[str, int] | None = None,
) -> tuple[dict[str, FieldValue], tuple[str, ...]]:
    """Cut text values to their field's length; returns the fields and `Object.Field` of
    each cut. `limits` (from a STRING_TOO_LONG answer) override describe."""
    out: dict[str, FieldValue] = {}
    cut: list[str] = []
    overrides = {k.lower(): v for k, v in (limits or {}).items()}
    for name, value in fields.items():
        limit = overrides.get(name.lower()) or schema.text_limit(name)
        if isinstance(value, str) and limit is not None and sf_length(value) > limit:
            value = sf_cut(value, limit)
            cut.append(f"{sobject}.{name}")
        out[name] = value
    return out, tuple(cut)
