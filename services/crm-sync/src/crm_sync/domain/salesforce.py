"""What crm-sync asks of Salesforce and gets back, as plain values.

The adapter turns an `InQuery` into SOQL and `WriteStep`s into one Composite call of
sObject Collections; the unit tests' fake answers the same values from memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from crm_sync.domain.schema import ObjectSchema

Row: TypeAlias = Mapping[str, Any]
"""A record as a SOQL query returns it (relationship fields nested: `{"ConvertedContact":
{...}}`)."""


@dataclass(frozen=True, slots=True)
class InQuery:
    """`SELECT fields FROM sobject WHERE match_field IN values [AND k = v ...]`."""

    sobject: str
    fields: tuple[str, ...]
    match_field: str
    values: tuple[str, ...]
    equals: tuple[tuple[str, bool | str], ...] = ()

    def covers(self, other: InQuery) -> bool:
        """Whether this query's rows hold every row and field `other` would return."""
        return (
            (self.sobject, self.match_field, self.equals)
            == (other.sobject, other.match_field, other.equals)
            and set(other.values) <= set(self.values)
            and set(other.fields) <= set(self.fields)
        )


@dataclass(frozen=True, slots=True)
class Ref:
    """The id of the `index`-th record created by the step named `step` of the same write."""

    step: str
    index: int


FieldValue: TypeAlias = str | int | float | bool | Ref | None


@dataclass(frozen=True, slots=True)
class NewRecord:
    """One record of a Collections call (with `Id` among the fields for an update)."""

    sobject: str
    fields: Mapping[str, FieldValue]


@dataclass(frozen=True, slots=True)
class WriteStep:
    """One sObject Collections call (up to 200 records) inside a Composite write."""

    name: str
    method: Literal["create", "update"]
    records: tuple[NewRecord, ...]
    allow_duplicates: bool = False
    """Save despite the org's alert-level duplicate rules (`Sforce-Duplicate-Rule-Header:
    allowSave=true`): the step goes in a call of its own."""


@dataclass(frozen=True, slots=True)
class RecordError:
    """Salesforce's error for one record (`statusCode` in Collections results)."""

    code: str
    message: str = ""
    fields: tuple[str, ...] = ()
    duplicate_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SaveResult:
    """One record's outcome: an id, or errors."""

    id: str | None
    errors: tuple[RecordError, ...] = ()

    @property
    def ok(self) -> bool:
        """Saved."""
        return self.id is not None and not self.errors


@dataclass(frozen=True, slots=True)
class StepResult:
    """A step's per-record results, or the error that stopped the whole step."""

    name: str
    results: tuple[SaveResult, ...] = ()
    error: RecordError | None = None


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """`Sforce-Limit-Info: api-usage=used/limit` as last seen."""

    used: int
    limit: int

    @property
    def share_used(self) -> float:
        """Share of the daily budget spent."""
        return self.used / self.limit if self.limit > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Connection:
    """What the tenant's token says about the connection."""

    user_id: str
    """The user who connected the org: the owner fallback."""
    org_id: str = ""


@dataclass(frozen=True, slots=True)
class CallStats:
    """API calls a port operation spent, and the budget figures it saw."""

    calls: int = 1
    usage: ApiUsage | None = None


@dataclass(frozen=True, slots=True)
class FileUpload:
    """A file to store as a ContentVersion shared with `parent` (an id or a Ref)."""

    title: str
    path_on_client: str
    data: bytes
    parent: str | Ref


@dataclass
class Reads:
    """Rows per query name, as one read returned them; and the org's objects when the read
    described them too (`SalesforcePort.read(describe=...)`)."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    schemas: dict[str, ObjectSchema] | None = None

    def get(self, name: str) -> list[Row]:
        """Rows of a query (none when it was not asked)."""
        return self.rows.get(name, [])
