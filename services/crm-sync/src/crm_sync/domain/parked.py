"""Parked chats held in memory until their not-before time, and the offsets of the retry
topic that may be committed meanwhile.

The retry consumer reads each parked chat once and keeps it here until it is due, instead of
writing it back to the retry topic each time it is not due yet (a tenant disconnected for
days would have cost one record per chat per wait). Nothing held is committed: the committed
offset of a partition stays at its oldest record still held (or taken and not yet
published), so a restart or a rebalance reads again what was not forwarded, and never skips
a held chat. A record forwarded after that oldest one may then be forwarded twice, which
chat-id dedupe makes harmless.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from chat_contracts.dlq import DeadLetter
from chat_contracts.sync import SyncRetry
from crm_sync.domain.inbound import InRecord
from crm_sync.domain.offsets import OffsetTracker, Partition


@dataclass(frozen=True, slots=True)
class Held:
    """One record of the retry topic: a parked chat, or a dead letter for one that did not
    validate (due at once)."""

    record: InRecord
    retry: SyncRetry | None = None
    letter: DeadLetter | None = None

    @property
    def partition(self) -> Partition:
        return self.record.topic, self.record.partition

    @property
    def size(self) -> int:
        return len(self.record.value or b"") + len(self.record.key or b"")


class ParkedHold:
    """The retry consumer's memory: parked chats by not-before time, bounded in bytes."""

    def __init__(self, max_bytes: int, max_wait: timedelta) -> None:
        self.max_bytes, self.max_wait = max_bytes, max_wait
        self.bytes = 0
        self._heap: list[tuple[datetime, int, Held]] = []
        self._seq = itertools.count()
        self.offsets = OffsetTracker()

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def full(self) -> bool:
        """Hold no more until some is due (the consumer stops fetching meanwhile)."""
        return self.bytes >= self.max_bytes

    def add(self, held: Held, now: datetime) -> None:
        """Keep a record read from the retry topic until it is due. A not-before further
        away than `max_wait` (a clock far off, a hand-written record) counts as `max_wait`,
        so one record cannot hold its partition's commits for ever."""
        self.offsets.read(held.partition, held.record.offset, held.size)
        due = now if held.retry is None else min(held.retry.not_before, now + self.max_wait)
        self._push(due, held)

    def _push(self, due: datetime, held: Held) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), held))
        self.bytes += held.size

    def next_due(self) -> datetime | None:
        """When the soonest held record is due."""
        return self._heap[0][0] if self._heap else None

    def take_due(self, now: datetime) -> list[Held]:
        """The records due by `now`, in due order; their offsets stay uncommitted until
        `settle` (published) or they come back with `put_back` (publish failed)."""
        out = []
        while self._heap and self._heap[0][0] <= now:
            _, _, held = heapq.heappop(self._heap)
            self.bytes -= held.size
            out.append(held)
        return out

    def put_back(self, taken: list[Held], now: datetime) -> None:
        """Records whose publish failed: due again at once."""
        for held in taken:
            if self.offsets.knows(held.partition):
                self._push(now, held)

    def settle(self, taken: list[Held]) -> None:
        """Records published: their offsets may be committed."""
        for held in taken:
            self.offsets.finished(held.partition, held.record.offset)

    def commit_offsets(self) -> dict[Partition, int]:
        """Per partition, the offset below which everything read has been published."""
        return self.offsets.commit_offsets()

    def drop(self, partitions: set[Partition]) -> None:
        """Forget partitions taken away: their next owner reads from the committed offset."""
        self.offsets.release(partitions)
        kept = [entry for entry in self._heap if entry[2].partition not in partitions]
        if len(kept) != len(self._heap):
            heapq.heapify(kept)
            self._heap = kept
            self.bytes = sum(entry[2].size for entry in kept)
