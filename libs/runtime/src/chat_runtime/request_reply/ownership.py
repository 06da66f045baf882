"""Which keys a member of a request topic's consumer group owns: one owner per key.

A key's partition is the one Kafka's default partitioner gives it (murmur2 of the key,
as the Java client and aiokafka compute it; librdkafka needs `partitioner=murmur2_random`),
and its owner is the group member that partition is assigned to. A responder whose work
for a key must never run in two places at once (auth's refresh of a tenant's rotating
refresh token) does it only while `owns(key)`.

Hand-over: when partitions are revoked (a rebalance, or the member stopping) they stop
being owned at once, then every `on_release` hook is awaited, up to `release_timeout_s`,
before the group may give them to another member: the hooks finish the work still running
for keys no longer owned. The group's rebalance waits for that (Kafka's rebalance timeout
is the consumer's `max_poll_interval_ms`, 300 s by default: keep the timeout under it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import TopicPartition
from aiokafka.partitioner import murmur2

from chat_runtime.logging import get_logger

log = get_logger(__name__)

ReleaseHook = Callable[[], Awaitable[None]]


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner writes `key` to."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


class KeyOwnership:
    """The partitions of `topic` this member holds, and the keys they make it own."""

    def __init__(self, topic: str, *, release_timeout_s: float = 120.0) -> None:
        self.topic = topic
        self._release_timeout_s = release_timeout_s
        self._partitions = 0
        self._owned: frozenset[int] = frozenset()
        self._hooks: list[ReleaseHook] = []

    def owns(self, key: bytes) -> bool:
        """Whether this member owns `key` now."""
        return bool(self._partitions) and partition_of(key, self._partitions) in self._owned

    @property
    def owned(self) -> frozenset[int]:
        """The partitions held now."""
        return self._owned

    def on_release(self, hook: ReleaseHook) -> None:
        """Await `hook()` whenever partitions stop being owned, before they are handed
        over; it finishes what still runs for keys `owns` no longer answers True for."""
        self._hooks.append(hook)

    def assigned(self, partitions: Iterable[TopicPartition], total: int) -> None:
        """The group gave this member `partitions` of the topic's `total`."""
        self._partitions = total
        self._owned = frozenset(tp.partition for tp in partitions if tp.topic == self.topic)
        log.info("partitions owned", topic=self.topic, partitions=sorted(self._owned))

    async def revoked(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """`partitions` (None: all) are no longer this member's: stop owning them, then
        let the hooks finish what still runs for them (bounded)."""
        gone = (
            self._owned
            if partitions is None
            else {tp.partition for tp in partitions if tp.topic == self.topic}
        )
        if not gone:
            return
        self._owned = self._owned - gone
        try:
            async with asyncio.timeout(self._release_timeout_s):
                for hook in self._hooks:
                    await hook()
        except TimeoutError:
            log.error(
                "work for released partitions still running; handing them over anyway",
                topic=self.topic,
                partitions=sorted(gone),
            )
