"""What one consumed batch of `chat.raw.v1` becomes: conversations, dead letters, skips.

Pure: the handler feeds records in, publishes the plan, and only then commits the seen
keys to the dedupe memory (so a batch that fails to publish is redone in full).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from chat_contracts.dlq import DeadLetterReason
from chat_contracts.keys import raw_event_key
from ingest_service.domain.consumed import RawRecord
from ingest_service.domain.dead_letters import MAX_RECORD_BYTES, Rejected, dead_letter, read_raw
from ingest_service.domain.dedupe import DedupeMemory
from ingest_service.domain.errors import describe_errors
from ingest_service.domain.normalise import normalise

PartitionKey = tuple[str, int]


@dataclass
class BatchPlan:
    """Records to produce for a batch, and what to remember once they are stored."""

    conversations: list[tuple[bytes, bytes]] = field(default_factory=list)
    dead_letters: list[tuple[bytes, bytes]] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(source topic, reason) of the dead letters."""
    invalid_fields: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    seen: dict[PartitionKey, list[tuple[bytes, int]]] = field(default_factory=dict)
    next_offsets: dict[PartitionKey, int] = field(default_factory=dict)


class BatchPlanner:
    """Turns records into a `BatchPlan`, one `add()` at a time."""

    def __init__(self, memory: DedupeMemory, region_for: Callable[[str], str]) -> None:
        self._memory = memory
        self._region_for = region_for
        self._in_batch: set[bytes] = set()
        self.plan = BatchPlan()

    def add(self, record: RawRecord) -> None:
        """Plan one record: a conversation, a dead letter, or a skipped duplicate."""
        partition = (record.topic, record.partition)
        self.plan.next_offsets[partition] = record.offset + 1
        raw = read_raw(record.value)
        if isinstance(raw, Rejected):
            self._reject(record, raw, record.key)
            return
        event_key = raw_event_key(raw.tenant_id, raw.event_id)
        if self._is_duplicate(partition, event_key):
            self.plan.duplicates += 1
            return
        try:
            normalised = normalise(raw, self._region_for(raw.tenant_id))
        except Exception as exc:  # noqa: BLE001 - a bug must dead-letter one event, not stop all
            self._reject(record, _internal_error(exc), event_key)
            return
        if len(normalised.value) > MAX_RECORD_BYTES:
            message = (
                f"its conversation of {len(normalised.value)} bytes is larger than a record may be"
            )
            self._reject(record, Rejected(DeadLetterReason.SCHEMA_VALIDATION, message), event_key)
            return
        self.plan.conversations.append((normalised.key, normalised.value))
        self.plan.kinds[normalised.conversation.kind] += 1
        self.plan.invalid_fields.update(normalised.invalid_fields)
        self._remember(partition, event_key, record.timestamp)

    def _reject(self, record: RawRecord, rejected: Rejected, event_key: bytes | None) -> None:
        self.plan.dead_letters.append(dead_letter(record, rejected))
        self.plan.reasons[(record.topic, rejected.reason.value)] += 1
        # An event id is handled once per window, as a conversation or a dead letter: the
        # rebuild from Kafka cannot tell the two apart, so the live path does not either.
        if event_key:
            self._remember((record.topic, record.partition), event_key, record.timestamp)

    def _is_duplicate(self, partition: PartitionKey, event_key: bytes) -> bool:
        if event_key in self._in_batch:
            return True
        memory = self._memory.partitions.get(partition)
        return memory is not None and event_key in memory

    def _remember(self, partition: PartitionKey, event_key: bytes, timestamp_ms: int) -> None:
        if self._memory.enabled:
            self._in_batch.add(event_key)
            self.plan.seen.setdefault(partition, []).append((event_key, timestamp_ms))


def _internal_error(exc: Exception) -> Rejected:
    # Never the exception's text of a ValidationError: it quotes the input values.
    detail = "; ".join(describe_errors(exc)) if isinstance(exc, ValidationError) else str(exc)
    message = f"normalisation failed: {type(exc).__name__}: {detail}"
    return Rejected(DeadLetterReason.INTERNAL_ERROR, message[:500])
