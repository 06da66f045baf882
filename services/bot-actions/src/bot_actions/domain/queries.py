"""find_record and find_record_by_soql: the queries, and what may be saved from them.

The first record is what the product documents as the answer when several match; here it
is deterministic: the oldest (`CreatedDate`, then `Id`) unless the query orders itself,
in which case `Id` breaks its ties.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot_actions.domain.errors import unknown_fields, validation
from bot_actions.domain.values import literal_for, resolve
from chat_contracts.base import JsonScalar
from chat_salesforce.query_text import QueryShapeError, first_row_query, selected_fields, shape
from chat_salesforce.schema import ObjectSchema
from chat_salesforce.templates import TemplateError, UnknownPlaceholders, render_soql


def first_order(schema: ObjectSchema) -> str:
    """ORDER BY items making "the first record" the oldest one, deterministically."""
    return "CreatedDate ASC, Id ASC" if schema.field("CreatedDate") else "Id ASC"


def find_query(
    schema: ObjectSchema,
    field_name: str,
    value: str,
    variables: Mapping[str, JsonScalar],
    save: Iterable[str],
) -> str:
    """`SELECT Id, <saved fields> FROM <object> WHERE <field> = <value> ...first row`."""
    field = schema.field(field_name)
    unknown = [p for p in save if not schema.has_path(p)]
    if field is None:
        unknown.insert(0, field_name)
    if unknown:
        raise unknown_fields(schema.name, unknown)
    assert field is not None
    if not field.filterable:
        raise validation(f"{schema.name}.{field.name} cannot be searched", [field.name])
    select = dict.fromkeys(["Id", *(_canonical_path(schema, p) for p in save)])
    return (
        f"SELECT {', '.join(select)} FROM {schema.name} "  # noqa: S608 - names from describe
        f"WHERE {field.name} = {literal_for(field, resolve(value, variables))} "
        f"ORDER BY {first_order(schema)} LIMIT 1"
    )


@dataclass(frozen=True, slots=True)
class UserQuery:
    """A find_record_by_soql query, rendered and checked."""

    soql: str
    object: str


def user_query(
    template: str, variables: Mapping[str, JsonScalar], save: Iterable[str]
) -> UserQuery:
    """The template rendered (placeholders as escaped literals), and refused when `save`
    names a field its SELECT clause does not list."""
    try:
        soql = render_soql(template, variables)
        selected = {f.lower() for f in selected_fields(soql)}
        sobject = shape(soql).object
    except UnknownPlaceholders as exc:
        raise validation(str(exc), exc.names) from None
    except (TemplateError, QueryShapeError) as exc:
        raise validation(f"SOQL: {exc}") from None
    not_selected = [p for p in save if p.lower() not in selected]
    if not_selected:
        raise validation(
            "only fields in the SELECT clause can be saved: " + ", ".join(not_selected),
            not_selected,
        )
    return UserQuery(soql, sobject)


def first_row(query: UserQuery, schema: ObjectSchema) -> str:
    """The user's query made to return its first record deterministically."""
    return first_row_query(query.soql, first_order(schema), "Id ASC")


def _canonical_path(schema: ObjectSchema, path: str) -> str:
    head, dot, rest = path.partition(".")
    if not dot:
        found = schema.field(head)
        return found.name if found else head
    relation = schema.relationship(head)
    return f"{relation.relationship_name}.{rest}" if relation else path
