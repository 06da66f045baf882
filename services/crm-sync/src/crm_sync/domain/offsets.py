"""What a consumer holds of each partition, and the offsets it may commit meanwhile.

crm-sync's consumers keep records in hand for a while: the conversations' lanes until a
chat is written (`entrypoints.conversations`), the retry consumer until a parked chat is due
and forwarded (`domain.parked`). Nothing is committed past a record not finished yet: per
partition the committed offset stays at the oldest record still in hand, so a restart or a
rebalance reads again what was not finished (chat-id dedupe makes a second write of a later
one harmless).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Partition = tuple[str, int]


@dataclass
class _Offsets:
    pending: dict[int, int] = field(default_factory=dict)
    """Offsets read and not finished (in read order, so the first is the oldest), with
    their record's size."""
    next_offset: int | None = None
    """The offset after the last record read."""

    def commit_offset(self) -> int | None:
        return next(iter(self.pending)) if self.pending else self.next_offset


class OffsetTracker:
    """Which records of each partition are in hand, and what may be committed."""

    def __init__(self) -> None:
        self._parts: dict[Partition, _Offsets] = {}
        self.in_flight = 0
        self.in_flight_bytes = 0

    def read(self, partition: Partition, offset: int, size: int) -> None:
        """A record was read (offsets of a partition come in increasing order)."""
        state = self._parts.setdefault(partition, _Offsets())
        state.pending[offset] = size
        state.next_offset = offset + 1
        self.in_flight += 1
        self.in_flight_bytes += size

    def finished(self, partition: Partition, offset: int) -> None:
        """A record is done with (its chat written, its dead letter or forward published):
        it may be committed past."""
        state = self._parts.get(partition)
        size = state.pending.pop(offset, None) if state is not None else None
        if size is not None:  # else its partition was released meanwhile
            self.in_flight -= 1
            self.in_flight_bytes -= size

    def commit_offsets(self) -> dict[Partition, int]:
        """Per partition, the offset to commit: the oldest record not finished, else the
        one after the last read."""
        out = {}
        for partition, state in self._parts.items():
            offset = state.commit_offset()
            if offset is not None:
                out[partition] = offset
        return out

    def next_offsets(self) -> dict[Partition, int]:
        """Per partition, the offset after the last record read."""
        return {p: s.next_offset for p, s in self._parts.items() if s.next_offset is not None}

    def knows(self, partition: Partition) -> bool:
        """Whether the partition is tracked (read from and not released)."""
        return partition in self._parts

    def pending(self, partition: Partition) -> int:
        """Records of `partition` not finished."""
        state = self._parts.get(partition)
        return len(state.pending) if state is not None else 0

    def release(self, partitions: set[Partition]) -> None:
        """Forget partitions taken away."""
        for partition in partitions:
            state = self._parts.pop(partition, None)
            if state is not None:
                self.in_flight -= len(state.pending)
                self.in_flight_bytes -= sum(state.pending.values())
