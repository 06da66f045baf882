"""Which `chat.raw.v1` events were already turned into a conversation.

`chat.raw.v1` is keyed by tenant + event_id, so every delivery of one event lands in the
same partition, hence with the same consumer: the memory of seen events is kept per
partition. It is rebuilt from the partition itself (the keys of the records before the
committed offset, within the window) whenever this process takes a partition over, so
it survives restarts and rebalances without any store but Kafka.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field


def fingerprint(key: bytes) -> bytes:
    """What the memory keeps of an event key: 16 bytes, however long the event id."""
    return hashlib.blake2b(key, digest_size=16).digest()


@dataclass(slots=True)
class PartitionMemory:
    """Fingerprints of the event keys seen in one partition, oldest first, with their
    record timestamps."""

    window_ms: int
    max_keys: int
    next_offset: int
    """The offset this memory is complete up to (exclusive)."""
    seen: dict[bytes, int] = field(default_factory=dict)

    def __contains__(self, key: bytes) -> bool:
        return fingerprint(key) in self.seen

    def load(self, entries: Iterable[tuple[bytes, int]]) -> None:
        """Remember `(key, timestamp_ms)` entries, oldest first."""
        seen = self.seen
        for key, timestamp_ms in entries:
            mark = fingerprint(key)
            seen.pop(mark, None)  # re-insert: the latest delivery counts for age
            seen[mark] = timestamp_ms
        self._bound()

    def commit(self, entries: Iterable[tuple[bytes, int]], next_offset: int, now_ms: int) -> None:
        """After a batch was published: remember its keys, move on, forget the old."""
        self.load(entries)
        self.next_offset = next_offset
        self.prune(now_ms)

    def prune(self, now_ms: int) -> None:
        """Forget keys older than the window."""
        horizon = now_ms - self.window_ms
        while self.seen:
            oldest = next(iter(self.seen))
            if self.seen[oldest] >= horizon:
                break
            del self.seen[oldest]

    def _bound(self) -> None:
        excess = len(self.seen) - self.max_keys
        if excess > 0:
            for key in list(self.seen)[:excess]:  # the oldest go first
                del self.seen[key]


@dataclass(slots=True)
class DedupeMemory:
    """`PartitionMemory` per (topic, partition) this process consumes."""

    window_ms: int
    max_keys: int
    partitions: dict[tuple[str, int], PartitionMemory] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """False when the window or the bound is zero: every event is new."""
        return self.window_ms > 0 and self.max_keys > 0

    def current(self, topic: str, partition: int, first_offset: int) -> PartitionMemory | None:
        """The partition's memory when it is complete up to `first_offset`; None when it
        must be rebuilt first (a partition new to this process, or one that another
        member consumed in between, or after a seek)."""
        memory = self.partitions.get((topic, partition))
        if memory is None or memory.next_offset != first_offset:
            return None
        return memory

    def rebuilt(
        self,
        topic: str,
        partition: int,
        next_offset: int,
        entries: Iterable[tuple[bytes, int]],
        now_ms: int,
    ) -> PartitionMemory:
        """Replace the partition's memory with `entries` read back from Kafka."""
        memory = PartitionMemory(self.window_ms, self.max_keys, next_offset)
        memory.load(entries)
        memory.prune(now_ms)
        self.partitions[(topic, partition)] = memory
        return memory

    def forget(self, topic: str, partition: int) -> None:
        """Drop a partition's memory (it was revoked)."""
        self.partitions.pop((topic, partition), None)
