"""Many requests in flight per consumer, offsets committed only below unfinished ones.

Salesforce answers in milliseconds to seconds, and one tenant's requests all share one
partition (the key is the tenant), so handling a partition one request at a time would
cap a tenant at a few requests per second. The consumer therefore hands each request to
a task and reads on, up to `limit` requests in flight per process (then reading pauses:
back-pressure, bounded memory).

At-least-once is kept per partition: records are logged in the order they were read, and
the committed offset only ever moves past a record once it and every record before it
are finished (answered, or skipped as expired). A crash therefore redelivers exactly the
unfinished requests (and those finished since the last commit, every `commit_interval`);
a redelivered request whose deadline has passed is skipped, one still in time is answered
again (callers ignore a duplicate reply). At a rebalance, requests of revoked partitions
get `revoke_drain_s` to finish and be committed; at shutdown all of them do.

FastStream's own `msg.ack()` commits the consumer's position, i.e. everything read so
far, which is why the responder reads with a plain consumer (`consumer`) and this class
commits explicit offsets instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from chat_runtime.logging import get_logger

log = get_logger(__name__)


class _Entry:
    __slots__ = ("done", "offset")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.done = False


class PartitionLog:
    """Records of one partition in the order read; what may be committed. Pure."""

    def __init__(self) -> None:
        self._entries: deque[_Entry] = deque()
        self.dirty = False

    def add(self, offset: int) -> _Entry:
        """Log a record just read."""
        entry = _Entry(offset)
        self._entries.append(entry)
        return entry

    def finish(self, entry: _Entry) -> None:
        """Mark a logged record finished."""
        entry.done = True
        self.dirty = True

    def committable(self) -> int | None:
        """The offset to commit now (one past the last finished record of the finished
        prefix), or None when nothing new is finished; forgets that prefix."""
        self.dirty = False
        last = None
        while self._entries and self._entries[0].done:
            last = self._entries.popleft().offset
        return None if last is None else last + 1

    def __len__(self) -> int:
        return len(self._entries)


class InFlightWindow:
    """Runs each request as a task; commits offsets per `PartitionLog`."""

    def __init__(
        self,
        limit: int,
        *,
        commit_interval_s: float = 0.2,
        revoke_drain_s: float = 5.0,
        on_in_flight: Callable[[int], None] | None = None,
    ) -> None:
        self.closing = False
        self._slots = asyncio.Semaphore(limit)
        self._interval = commit_interval_s
        self._revoke_drain_s = revoke_drain_s
        self._on_in_flight = on_in_flight or (lambda _: None)
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._tasks: dict[TopicPartition, set[asyncio.Task[None]]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._committer: asyncio.Task[None] | None = None
        self._commit_lock = asyncio.Lock()
        self._count = 0

    @property
    def in_flight(self) -> int:
        """Requests running now."""
        return self._count

    async def submit(
        self,
        record: Any,
        consumer: AIOKafkaConsumer,
        work: Callable[[], Awaitable[None]],
    ) -> bool:
        """Start `work()` for a record read from `consumer` (waits for a free slot).
        False when closing: the record is left uncommitted for the partition's next owner."""
        await self._slots.acquire()
        if self.closing:
            self._slots.release()
            return False
        self._consumer = consumer
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_periodically(), name="commits")
        tp = TopicPartition(record.topic, record.partition)
        partition_log = self._logs.setdefault(tp, PartitionLog())
        entry = partition_log.add(record.offset)
        task = asyncio.create_task(_run(work), name=f"request:{tp.partition}:{record.offset}")
        self._tasks.setdefault(tp, set()).add(task)
        self._count += 1
        self._on_in_flight(self._count)
        task.add_done_callback(lambda t: self._finished(tp, partition_log, entry, t))
        return True

    def _finished(
        self, tp: TopicPartition, partition_log: PartitionLog, entry: _Entry, task: Any
    ) -> None:
        partition_log.finish(entry)
        self._tasks.get(tp, set()).discard(task)
        self._count -= 1
        self._on_in_flight(self._count)
        self._slots.release()

    async def commit(self) -> None:
        """Commit every partition's finished prefix (for partitions still assigned)."""
        consumer = self._consumer
        if consumer is None:
            return
        async with self._commit_lock:
            assigned = consumer.assignment()
            offsets = {}
            for tp, partition_log in list(self._logs.items()):
                if partition_log.dirty and tp in assigned:
                    offset = partition_log.committable()
                    if offset is not None:
                        offsets[tp] = offset
            if not offsets:
                return
            try:
                await consumer.commit(offsets)
            except (KafkaError, AssertionError) as exc:
                # Not fatal: a later commit covers these offsets, or the next owner
                # redelivers the records (answered again, or skipped as expired).
                log.warning("offset commit failed", error=repr(exc), partitions=len(offsets))

    async def drain(self, partitions: Iterable[TopicPartition] | None, timeout: float) -> None:  # noqa: ASYNC109
        """Wait (at most `timeout` s) for the requests of `partitions` (all: None), commit."""
        wanted = set(self._tasks) if partitions is None else set(partitions)
        tasks = [t for tp in wanted for t in self._tasks.get(tp, ())]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        await self.commit()

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109
        """Stop starting requests, let running ones finish (bounded), commit, stop."""
        self.closing = True
        await self.drain(None, timeout)
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
            self._committer = None

    def listener(self) -> ConsumerRebalanceListener:
        """The rebalance listener: drain and commit revoked partitions, then forget them."""
        return _Listener(self)

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        await self.drain(revoked, self._revoke_drain_s)
        for tp in revoked:
            self._logs.pop(tp, None)
            self._tasks.pop(tp, None)

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.commit()


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, window: InFlightWindow) -> None:
        self._window = window

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._window._revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


async def _run(work: Callable[[], Awaitable[None]]) -> None:
    try:
        await work()
    except Exception:
        log.exception("request handling failed")
