"""What handlers need from the outside world, as Protocols with one real implementation
each in this package and an in-memory fake in the unit tests."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Protocol

# The records a publisher takes, the runtime's, re-exported as this port's vocabulary.
from chat_runtime.kafka import JSON_HEADERS as JSON_HEADERS
from chat_runtime.kafka import OutRecord as OutRecord
from chat_runtime.kafka import PublishError as PublishError


class Publisher(Protocol):
    """Produces records durably (acks=all, idempotent)."""

    async def publish(self, record: OutRecord, timeout_s: float) -> None:
        """Return once Kafka stored `record`; PublishError otherwise (within `timeout_s`)."""
        ...

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        """Hand `records` to the producer, in order (successive calls keep their order),
        and return what to await for their confirmation: it raises PublishError if any
        record was not stored. Lets a caller prepare more records while these travel."""
        ...


PartitionKey = tuple[str, int]
"""(topic, partition)."""


class RecentKeys(Protocol):
    """Reads back the keys of a partition's recent records (the dedupe rebuild)."""

    async def read(
        self, until: Mapping[PartitionKey, int], since_ms: int, max_records: int
    ) -> dict[PartitionKey, list[tuple[bytes, int]]]:
        """For each partition, `(key, timestamp_ms)` of its records before offset
        `until[p]`, no older than `since_ms` and at most the last `max_records`."""
        ...


class PhoneRegions(Protocol):
    """Each tenant's default phone region (its `TenantSettings.default_phone_region`)."""

    def region(self, tenant_id: str) -> str:
        """ISO 3166 alpha-2 region for numbers without `+country`."""
        ...
