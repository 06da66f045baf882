"""Records of the console's topics into the history: decode, turn into rows, store.

A record that does not decode (a producer outside the contracts, a corrupt value) is
counted and logged by kind and position, never by content, and passed over: the history
is a view, and one bad record must not stop it. Its offset advances with the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from chat_contracts.audit import AuditEvent
from chat_contracts.base import UNKNOWN_TENANT
from chat_contracts.registry import value_adapter
from chat_contracts.topics import (
    AUDIT_EVENTS,
    AUTH_CONNECTIONS,
    CHAT_DLQ,
    CRM_DLQ,
    CRM_SYNC_RESULTS,
)
from chat_runtime.logging import get_logger
from console_service.adapters.store import Batch, Store
from console_service.domain.history import (
    Position,
    attempt_row,
    audit_row,
    chat_row,
    connection_row,
    letter_row,
)

log = get_logger(__name__)

_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "result": value_adapter(CRM_SYNC_RESULTS.name),
    "crm_dlq": value_adapter(CRM_DLQ.name),
    "chat_dlq": value_adapter(CHAT_DLQ.name),
    "connection": value_adapter(AUTH_CONNECTIONS.name),
    "audit": value_adapter(AUDIT_EVENTS.name),
}


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed record: which kind of history it is, where it sat, its value."""

    kind: str
    position: Position
    value: bytes | None


def to_batch(records: Sequence[Record], on_bad: Callable[[str], None]) -> Batch:
    """The rows of these records, and the next offset of every partition they came from."""
    batch = Batch()
    for record in records:
        at = record.position
        batch.offsets[(at.topic, at.partition)] = at.offset + 1
        if record.value is None:
            continue  # no tombstones on these topics; nothing to show
        try:
            value = _ADAPTERS[record.kind].validate_json(record.value)
        except ValidationError as exc:
            on_bad(record.kind)
            log.warning(
                "history record refused",
                kind=record.kind,
                topic=at.topic,
                partition=at.partition,
                offset=at.offset,
                errors=exc.error_count(),
            )
            continue
        tenant = value.tenant_id
        if tenant != UNKNOWN_TENANT:
            batch.seen(tenant, at.at)
        if record.kind == "result":
            batch.attempts.append(attempt_row(value, at))
            batch.chat(chat_row(value, at))
        elif record.kind in ("crm_dlq", "chat_dlq"):
            batch.letters.append(letter_row(value, at))
        elif record.kind == "connection":
            if (row := connection_row(value, at)) is not None:
                batch.connection(row)
        elif isinstance(value, AuditEvent):
            batch.audit.append(audit_row(value))
    return batch


class KeepHistory:
    """Stores each poll's records in one transaction with their offsets."""

    def __init__(
        self,
        store: Store,
        on_bad: Callable[[str], None],
        on_stored: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.store = store
        self.on_bad, self.on_stored = on_bad, on_stored

    async def __call__(self, records: Sequence[Record]) -> int:
        """Store the records (counted once their transaction committed); how many
        rows-worth of history they were."""
        batch = to_batch(records, self.on_bad)
        await asyncio.to_thread(self.store.save, batch)
        self.on_stored(len(records))
        return len(batch)
