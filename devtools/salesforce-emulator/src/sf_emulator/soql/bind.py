"""Bind a parsed query to an org's objects: canonical field names, relationship paths,
literal types checked against field types, values normalised for comparison.

Errors carry Salesforce's codes and wording: INVALID_TYPE for an unknown object,
INVALID_FIELD for an unknown column or a literal of the wrong type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sf_emulator.errors import SalesforceError
from sf_emulator.schema.catalog import Catalog
from sf_emulator.schema.fields import ID_TYPES, STRING_TYPES, FieldDef, ObjectDef
from sf_emulator.soql import ast
from sf_emulator.soql.literal_types import fail, literal_value

# What a polymorphic relationship (Who, What, Owner) exposes: Salesforce's `Name` object.
NAME_FIELDS = {
    f.name.lower(): f
    for f in [
        FieldDef("Id", "id"),
        FieldDef("Name", "string", length=255),
        FieldDef("FirstName", "string", length=40),
        FieldDef("LastName", "string", length=80),
        FieldDef("Email", "email", length=80),
        FieldDef("Phone", "phone", length=40),
        FieldDef("Title", "string", length=128),
        FieldDef("Alias", "string", length=8),
        FieldDef("Username", "string", length=80),
        FieldDef("IsActive", "boolean"),
        FieldDef("Type", "picklist", length=255),
    ]
}
UNFILTERABLE = frozenset({"textarea", "base64"})


@dataclass(frozen=True)
class BoundPath:
    """A field reached from the queried object through zero or more references."""

    names: tuple[str, ...]
    steps: tuple[FieldDef, ...]
    leaf: FieldDef
    polymorphic_leaf: bool = False


@dataclass(frozen=True)
class BoundComparison:
    path: BoundPath
    op: str
    value: Any  # normalised literal, tuple (IN), (start, end) range, or compiled regex
    is_range: bool = False


@dataclass(frozen=True)
class BoundQuery:
    query: ast.Query
    obj: ObjectDef
    fields: tuple[BoundPath, ...] | None
    where: Any
    order_by: tuple[tuple[BoundPath, bool, bool], ...]


def bind(q: ast.Query, catalog: Catalog, desc_nulls_first: bool = False) -> BoundQuery:
    """`q` against the org's objects. Nulls sort first by default [S24]; for DESC that is
    inferred, so it takes `desc_nulls_first` (the org's switch), else nulls last."""
    obj = catalog.get(q.sobject)
    if obj is None:
        raise fail(
            q,
            q.sobject_pos,
            "INVALID_TYPE",
            f"sObject type '{q.sobject}' is not supported. If you are attempting to use "
            "a custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )
    fields = None
    if q.fields is not None:
        seen: set[str] = set()
        bound = []
        for fp in q.fields:
            if fp.text.lower() in seen:
                raise SalesforceError(
                    400, "MALFORMED_QUERY", f"duplicate field selected: {fp.text}"
                )
            seen.add(fp.text.lower())
            bound.append(path(q, obj, fp, catalog))
        fields = tuple(bound)
    order = []
    for item in q.order_by:
        bp = path(q, obj, item.field, catalog)
        if bp.leaf.type in UNFILTERABLE:
            raise fail(
                q,
                item.field.pos,
                "INVALID_FIELD",
                f"field '{bp.leaf.name}' can not be sorted in a query call",
            )
        nulls_last = item.nulls_last
        if nulls_last is None:
            nulls_last = item.descending and not desc_nulls_first
        order.append((bp, item.descending, nulls_last))
    where = _condition(q, obj, q.where, catalog) if q.where is not None else None
    return BoundQuery(q, obj, fields, where, tuple(order))


def path(q: ast.Query, obj: ObjectDef, fp: ast.FieldPath, catalog: Catalog) -> BoundPath:
    """Resolve `A.B.C` from `obj`; every step but the last must be a relationship."""
    current: ObjectDef | None = obj
    names: list[str] = []
    steps: list[FieldDef] = []
    for i, part in enumerate(fp.parts):
        last = i == len(fp.parts) - 1
        if current is None:  # past a polymorphic relationship: only Name fields remain
            leaf = NAME_FIELDS.get(part.lower())
            if leaf is None or not last:
                raise fail(
                    q,
                    fp.pos,
                    "INVALID_FIELD",
                    f"No such column '{part}' on entity "
                    "'Name'. If you are attempting to use a custom field, be sure to "
                    "append the '__c' after the custom field name. Please reference "
                    "your WSDL or the describe call for the appropriate names.",
                )
            return BoundPath((*names, leaf.name), tuple(steps), leaf, True)
        if last:
            leaf = current.field(part)
            if leaf is None:
                raise fail(
                    q,
                    fp.pos,
                    "INVALID_FIELD",
                    f"No such column '{part}' on entity "
                    f"'{current.name}'. If you are attempting to use a custom field, be "
                    "sure to append the '__c' after the custom field name. Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                )
            return BoundPath((*names, leaf.name), tuple(steps), leaf)
        ref = current.relationship(part)
        if ref is None:
            raise fail(
                q,
                fp.pos,
                "INVALID_FIELD",
                f"Didn't understand relationship '{part}' "
                "in field path. If you are attempting to use a custom relationship, be "
                "sure to append the '__r' after the custom relationship name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        names.append(str(ref.relationship_name))
        steps.append(ref)
        current = None if ref.polymorphic else catalog.get(ref.reference_to[0])
    raise AssertionError("unreachable: a field path has at least one part")


def _condition(q: ast.Query, obj: ObjectDef, cond: ast.Condition, catalog: Catalog) -> Any:
    if isinstance(cond, ast.And):
        return ast.And(tuple(_condition(q, obj, c, catalog) for c in cond.items))
    if isinstance(cond, ast.Or):
        return ast.Or(tuple(_condition(q, obj, c, catalog) for c in cond.items))
    if isinstance(cond, ast.Not):
        return ast.Not(_condition(q, obj, cond.item, catalog))
    bp = path(q, obj, cond.field, catalog)
    leaf = bp.leaf
    if leaf.type in UNFILTERABLE:
        raise fail(
            q,
            cond.field.pos,
            "INVALID_FIELD",
            f"field '{leaf.name}' can not be filtered in a query call",
        )
    if cond.op == "like":
        if leaf.type not in STRING_TYPES and leaf.type not in ID_TYPES:
            raise fail(
                q, cond.field.pos, "INVALID_FIELD", f"invalid operator on field '{leaf.name}': LIKE"
            )
        return BoundComparison(bp, "like", getattr(cond.value, "regex", None))
    if cond.op in {"includes", "excludes"} and leaf.type != "multipicklist":
        raise fail(
            q,
            cond.field.pos,
            "INVALID_FIELD",
            "INCLUDES or EXCLUDES operator only valid on multipicklist field",
        )
    if isinstance(cond.value, tuple):
        normal = tuple(literal_value(q, cond.field, leaf, lit) for lit in cond.value)
        if any(isinstance(v, tuple) for v in normal):
            raise fail(q, cond.field.pos, "MALFORMED_QUERY", "date literals are not allowed in IN")
        return BoundComparison(bp, cond.op, normal)
    assert isinstance(cond.value, ast.Literal)
    normal = literal_value(q, cond.field, leaf, cond.value)
    return BoundComparison(bp, cond.op, normal, isinstance(normal, tuple))
