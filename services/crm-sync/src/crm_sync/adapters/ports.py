"""What the use cases need from the outside world, as Protocols: one real implementation
each in this package, an in-memory fake each in the unit tests."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from chat_contracts.settings import TenantSettings
from chat_contracts.sync import RetryReason, SourcePosition

# The records a publisher takes, the runtime's, re-exported as this port's vocabulary.
from chat_runtime.kafka import JSON_HEADERS as JSON_HEADERS
from chat_runtime.kafka import OutRecord as OutRecord
from chat_runtime.kafka import PublishError as PublishError
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.salesforce import (
    ApiUsage,
    CallStats,
    Connection,
    InQuery,
    Reads,
    StepResult,
    WriteStep,
)
from crm_sync.domain.schema import ObjectSchema


class SalesforceUnavailable(Exception):
    """The call failed as a whole but may work later (5xx, lock contention, timeout)."""


class OutcomeUnknown(SalesforceUnavailable):
    """A write got no answer: it may or may not have happened (read again before writing)."""


class CallRejected(Exception):
    """Salesforce refused the call as a whole (4xx other than session and budget)."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = ()) -> None:
        self.code, self.message, self.fields = code, message, tuple(fields)
        super().__init__(f"{code}: {message}")


class TenantUnavailable(Exception):
    """The tenant cannot be served now: not connected, revoked, out of API budget, or auth
    does not answer. `reason` says which; its chats are parked."""

    def __init__(self, reason: RetryReason, message: str) -> None:
        self.reason, self.message = reason, message
        super().__init__(f"{reason.value}: {message}")


class SalesforcePort(Protocol):
    """A tenant's Salesforce org, in the few calls crm-sync makes of it."""

    async def connection(self, tenant_id: str) -> Connection:
        """Who connected the org (raises TenantUnavailable when nobody can be asked)."""
        ...

    async def describe(
        self, tenant_id: str, objects: Sequence[str]
    ) -> tuple[dict[str, ObjectSchema], CallStats]:
        """The objects' fields (one Composite call); objects the org lacks are left out."""
        ...

    async def read(
        self, tenant_id: str, queries: Mapping[str, InQuery], *, describe: Sequence[str] = ()
    ) -> tuple[Reads, CallStats]:
        """Every query's rows (one Composite call, plus one per further page); with
        `describe`, those objects' fields too, in the same call (`Reads.schemas`)."""
        ...

    async def write(
        self, tenant_id: str, steps: Sequence[WriteStep], *, assignment_rules: bool = False
    ) -> tuple[dict[str, StepResult], CallStats]:
        """Run the steps in order in one Composite call; results by step name. The org's
        assignment rules run only with `assignment_rules`."""
        ...

    def usage(self, tenant_id: str) -> ApiUsage | None:
        """The org's API usage as last reported (`Sforce-Limit-Info`)."""
        ...


class Publisher(Protocol):
    """Produces records durably (acks=all, idempotent), in the order given."""

    async def publish_many(self, records: Sequence[OutRecord]) -> None:
        """Return once Kafka stored every record; PublishError if any was not."""
        ...


class RecordReader(Protocol):
    """Reads records back from Kafka by position or time, in no consumer group (nothing
    committed, no partition taken from anyone): what the console's repairs replay."""

    async def read_at(self, position: SourcePosition) -> InRecord | None:
        """The record at `position`; None when there is none (yet, or any longer)."""
        ...

    def scan(
        self, topic: str, since: datetime, until: datetime | None = None
    ) -> AsyncGenerator[InRecord, None]:
        """Every partition's records written from `since` on, up to where each partition
        ended when the scan began (and, given `until`, no later than that), streamed."""
        ...


class SettingsStore(Protocol):
    """Each tenant's settings, from the compacted `tenant.settings.v1`."""

    def get(self, tenant_id: str) -> TenantSettings | None:
        """The tenant's settings; None when it never had any (defaults apply)."""
        ...

    def removed(self, tenant_id: str) -> bool:
        """Whether the tenant's settings were deleted (a tombstone): no more syncing."""
        ...


class FileFetcher(Protocol):
    """Downloads a chat's attachments so they can be stored in Salesforce."""

    async def fetch(self, url: str) -> bytes | None:
        """The file's bytes; None when it cannot be had (logged, not fatal)."""
        ...


class Clock(Protocol):
    """Time, injectable for tests."""

    def now(self) -> datetime:
        """Current UTC time."""
        ...

    def monotonic(self) -> float:
        """Seconds for measuring durations and cache ages."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait."""
        ...
