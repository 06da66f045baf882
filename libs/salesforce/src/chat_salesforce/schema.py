"""Describe results as small typed values, with case-insensitive lookups. Pure.

Salesforce API names are case-insensitive (`email` finds `Email`); these lookups return
the canonical spelling, which is what queries and records then use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NUMBER_TYPES = frozenset({"int", "double", "currency", "percent", "long"})
DATE_TYPES = frozenset({"date", "datetime", "time"})


@dataclass(frozen=True, slots=True)
class FieldSchema:
    """One field of an object, as describe reports it."""

    name: str
    label: str
    type: str
    length: int | None = None
    nillable: bool = True
    createable: bool = False
    updateable: bool = False
    defaulted_on_create: bool = False
    filterable: bool = True
    relationship_name: str | None = None
    reference_to: tuple[str, ...] = ()
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    """Salesforce refuses any value not in `picklist_values`."""

    @property
    def required(self) -> bool:
        """Required on create: createable, not nillable, not defaulted."""
        return self.createable and not self.nillable and not self.defaulted_on_create


@dataclass(frozen=True, slots=True)
class ObjectSummary:
    """One entry of describeGlobal."""

    name: str
    label: str
    createable: bool
    queryable: bool
    updateable: bool


@dataclass(frozen=True, slots=True)
class ObjectSchema:
    """An object's describe: its fields by lower-cased name and relationship name."""

    name: str
    label: str
    createable: bool
    updateable: bool
    queryable: bool
    fields: tuple[FieldSchema, ...]
    _by_name: Mapping[str, FieldSchema] = field(default_factory=dict, repr=False, compare=False)
    _by_relationship: Mapping[str, FieldSchema] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name.lower(): f for f in self.fields})
        object.__setattr__(
            self,
            "_by_relationship",
            {f.relationship_name.lower(): f for f in self.fields if f.relationship_name},
        )

    def field(self, name: str) -> FieldSchema | None:
        """The field called `name` (any case), or None."""
        return self._by_name.get(name.lower())

    def relationship(self, name: str) -> FieldSchema | None:
        """The reference field whose relationship is called `name` (`Account`), or None."""
        return self._by_relationship.get(name.lower())

    def has_path(self, path: str) -> bool:
        """Whether `path` starts on this object: a field, or a relationship then anything
        (`Account.Name`; the hops after the first are checked by Salesforce)."""
        head, _, rest = path.partition(".")
        return self.field(head) is not None if not rest else self.relationship(head) is not None

    @property
    def required_fields(self) -> tuple[FieldSchema, ...]:
        """Fields a create must set."""
        return tuple(f for f in self.fields if f.required)


def parse_field(raw: Mapping[str, Any]) -> FieldSchema:
    """A `FieldSchema` from one element of describe's `fields`."""
    length = raw.get("length")
    return FieldSchema(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        type=str(raw.get("type", "string")),
        length=int(length) if isinstance(length, int) and length > 0 else None,
        nillable=bool(raw.get("nillable", True)),
        createable=bool(raw.get("createable", False)),
        updateable=bool(raw.get("updateable", False)),
        defaulted_on_create=bool(raw.get("defaultedOnCreate", False)),
        filterable=bool(raw.get("filterable", True)),
        relationship_name=raw.get("relationshipName") or None,
        reference_to=tuple(raw.get("referenceTo") or ()),
        restricted_picklist=bool(raw.get("restrictedPicklist", False)),
        picklist_values=tuple(
            str(v["value"]) for v in raw.get("picklistValues") or () if v.get("active", True)
        ),
    )


def parse_describe(raw: Mapping[str, Any]) -> ObjectSchema:
    """An `ObjectSchema` from `GET /sobjects/{name}/describe`."""
    return ObjectSchema(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        createable=bool(raw.get("createable", False)),
        updateable=bool(raw.get("updateable", False)),
        queryable=bool(raw.get("queryable", True)),
        fields=tuple(parse_field(f) for f in raw.get("fields") or ()),
    )


def parse_describe_global(raw: Mapping[str, Any]) -> tuple[ObjectSummary, ...]:
    """The objects of `GET /sobjects`, sorted by name."""
    objects = (
        ObjectSummary(
            name=str(o["name"]),
            label=str(o.get("label") or o["name"]),
            createable=bool(o.get("createable", False)),
            queryable=bool(o.get("queryable", True)),
            updateable=bool(o.get("updateable", False)),
        )
        for o in raw.get("sobjects") or ()
    )
    return tuple(sorted(objects, key=lambda o: o.name))
