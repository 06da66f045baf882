"""The parsed form of a SOQL query, before it is bound to an org's objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pos:
    """Where a token starts (1-based), for Salesforce's `ERROR at Row:R:Column:C`."""

    line: int
    column: int


@dataclass(frozen=True)
class FieldPath:
    parts: tuple[str, ...]
    pos: Pos

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    """A value: kind is string, number, date, datetime, null, boolean or date_literal."""

    kind: str
    value: Any
    raw: str


@dataclass(frozen=True)
class LikePattern:
    regex: re.Pattern[str]
    raw: str


@dataclass(frozen=True)
class Comparison:
    """`field op value`; op is one of = != < <= > >= like in notin includes excludes."""

    field: FieldPath
    op: str
    value: Literal | LikePattern | tuple[Literal, ...]


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_last: bool | None  # None: not said, the org's default applies


@dataclass(frozen=True)
class Query:
    """A SELECT; `fields` is None for `SELECT COUNT()`."""

    text: str
    fields: tuple[FieldPath, ...] | None
    sobject: str
    sobject_pos: Pos
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
