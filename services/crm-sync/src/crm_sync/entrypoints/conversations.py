"""The conversations topic's consumer: reads chats and hands each tenant's to its lane.

A plain aiokafka consumer rather than a FastStream batch subscriber: a batch subscriber
finishes a poll before it reads the next, so every tenant waited for the slowest tenant of
the poll (an org answering slowly, a tenant sending costly chats). Here each tenant has a
lane (`domain.lanes`): one task that writes the tenant's chats in the order they were read
(held as read, by the tenant their record names, and decoded when their batch is taken),
a batch at a time, lingering (from the oldest chat's produce time) up to the window
`SyncConversations.linger_s` gives (the latency target less the expected write,
`domain.linger`), so that a tenant's chats share a batch and its API calls; a full batch,
a full reader or a held tenant does not wait. The
reader keeps reading meanwhile. What is read and not written is bounded
(`CRM_SYNC_MAX_IN_FLIGHT_RECORDS` / `_BYTES`): past it the partitions are paused (the
consumer keeps polling, so it stays in the group).

Commits go per partition up to the oldest record not finished. A lane whose batch fails
(Kafka refused its results) puts the batch back and tries again after a pause. When
partitions are taken away, what their lanes have not started is dropped (the next owner
reads it from the committed offset), what they are writing is finished and committed
before the partitions are handed over, so two members never write one visitor at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Final

from aiokafka import AIOKafkaConsumer

from chat_contracts.dlq import DeadLetter
from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from crm_sync.adapters.consumer import in_records
from crm_sync.domain.inbound import InRecord, decode_chats, tenant_of
from crm_sync.domain.offsets import OffsetTracker, Partition
from crm_sync.domain.work import ChatWork
from crm_sync.entrypoints.committing import RETRY_PAUSE_S, CommittingConsumer
from crm_sync.handlers.sync import SyncConversations

log = get_logger(__name__)
REVOKE_WAIT_S: Final = 240.0
"""A rebalance waits at most this long for the batches being written (below
max.poll.interval.ms)."""
LANE_IDLE_S: Final = 30.0
"""A lane with nothing to do this long ends (a new one starts with its tenant's next chat)."""
DEAD_LETTERS: Final = ""
"""The lane of records that are not conversations."""


@dataclass(slots=True)
class _Item:
    partition: Partition
    offset: int
    timestamp_ms: int
    queued_at: float = field(default_factory=time.monotonic)
    record: InRecord | None = None
    """A chat as read: decoded when its batch is taken (a decoded chat is several times
    its bytes, and at full speed lanes hold thousands for the latency target)."""
    work: ChatWork | None = None
    """The chat decoded (kept with its progress if the batch is tried again)."""
    letter: DeadLetter | None = None


def _decode(batch: list[_Item]) -> None:
    """Decode the batch's records not decoded yet: each a chat, or a dead letter."""
    for item in batch:
        if item.record is not None and item.work is None and item.letter is None:
            works, dead = decode_chats([item.record])
            item.work, item.letter = (works[0], None) if works else (None, dead[0])
            item.record = None


@dataclass
class _Lane:
    queue: deque[_Item] = field(default_factory=deque)
    running: list[_Item] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class ConversationConsumer(CommittingConsumer):
    """`start()` joins the conversations group and reads; `stop()` finishes what the lanes
    are writing (bounded), commits and leaves."""

    role = "conversations"

    def __init__(
        self,
        kit: KafkaKit,
        topic: str,
        group_id: str,
        sync: SyncConversations,
        *,
        poll_max_records: int,
        poll_timeout_ms: int,
        max_in_flight_records: int,
        max_in_flight_bytes: int,
        backlog_linger_s: float = 1.0,
        stop_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(kit, topic, group_id)
        self.sync = sync
        self.poll_max_records, self.poll_timeout_ms = poll_max_records, poll_timeout_ms
        self.max_records, self.max_bytes = max_in_flight_records, max_in_flight_bytes
        self.stop_timeout_s = stop_timeout_s
        self.backlog_linger_s = backlog_linger_s
        self.behind = False
        self.tracker = OffsetTracker()
        self.lanes: dict[str, _Lane] = {}
        self._settled = asyncio.Event()

    async def finish(self) -> None:
        """Stopping: what the lanes have not started is left to whoever reads next; what
        they are writing is finished (bounded)."""
        for lane in self.lanes.values():
            lane.queue.clear()  # not started: read again by whoever reads next
        with contextlib.suppress(TimeoutError):
            await self._until(
                lambda: not any(lane.running for lane in self.lanes.values()), self.stop_timeout_s
            )
        for lane in list(self.lanes.values()):
            if lane.task is not None:
                lane.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
        self.lanes.clear()

    async def step(self, consumer: AIOKafkaConsumer) -> None:
        full = self.full
        if full:
            consumer.pause(*consumer.assignment())
        elif consumer.paused():
            consumer.resume(*consumer.paused())
        batches = await consumer.getmany(
            timeout_ms=self.poll_timeout_ms, max_records=self.poll_max_records
        )
        records = in_records(list(chain.from_iterable(batches.values())))
        if records:
            self.dispatch(records)
        self._set_behind(self._lag(consumer) >= self.poll_max_records and not self.full)
        if full != self.full:
            for lane in self.lanes.values():
                lane.wake.set()
        await self.commit(consumer)

    def _lag(self, consumer: AIOKafkaConsumer) -> int:
        """Records in the topic the reader has not read yet (as the last fetch saw it)."""
        lag = 0
        read = self.tracker.next_offsets()
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            position = read.get((tp.topic, tp.partition))
            if end is not None and position is not None:
                lag += max(0, end - position)
        return lag

    def dispatch(self, records: Sequence[InRecord]) -> None:
        """Hand each record to its tenant's lane (what is not a conversation to the dead
        letters' lane)."""
        for record in records:
            partition = (record.topic, record.partition)
            size = len(record.value or b"") + len(record.key or b"")
            self.tracker.read(partition, record.offset, size)
            item = _Item(partition, record.offset, record.timestamp_ms)
            tenant_id = tenant_of(record)
            if tenant_id is not None:
                item.record = record
                self._queue(tenant_id, item)
            else:
                _, dead = decode_chats([record])
                item.letter = dead[0]
                self._queue(DEAD_LETTERS, item)

    def _queue(self, tenant_id: str, item: _Item) -> None:
        lane = self.lanes.get(tenant_id)
        if lane is None:
            lane = self.lanes[tenant_id] = _Lane()
            lane.task = asyncio.create_task(self._run(tenant_id, lane), name=f"lane:{tenant_id}")
        lane.queue.append(item)
        lane.wake.set()

    async def _run(self, tenant_id: str, lane: _Lane) -> None:
        while True:
            if not lane.queue:
                lane.wake.clear()
                try:
                    await asyncio.wait_for(lane.wake.wait(), LANE_IDLE_S)
                except TimeoutError:
                    if not lane.queue and self.lanes.get(tenant_id) is lane:
                        del self.lanes[tenant_id]
                        return
                continue
            limit = self.sync.batch_limit(tenant_id)
            linger_s = self.sync.linger_s(tenant_id)
            until = lane.queue[0].timestamp_ms / 1000 + linger_s
            if tenant_id != DEAD_LETTERS and self._wait(lane, until) > 0:
                self.sync.warm(tenant_id)  # its token while the lane waits
            while lane.queue and len(lane.queue) < limit and (wait := self._wait(lane, until)) > 0:
                lane.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.wake.wait(), wait)
            if not lane.queue:  # dropped by a rebalance meanwhile
                continue
            batch = [lane.queue.popleft() for _ in range(min(limit, len(lane.queue)))]
            lane.running = batch
            _decode(batch)
            try:
                await self.sync.lane(
                    tenant_id,
                    [i.work for i in batch if i.work is not None],
                    [i.letter for i in batch if i.letter is not None],
                )
            except Exception:
                log.exception("a lane's batch failed; it is tried again", tenant_id=tenant_id)
                lane.queue.extendleft(reversed(batch))
                lane.running = []
                self._settled.set()
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            lane.running = []
            for item in batch:
                self.tracker.finished(item.partition, item.offset)
            self._settled.set()

    def _wait(self, lane: _Lane, until: float) -> float:
        """Seconds a lane still waits for more chats: its tenant's linger from the oldest
        chat's produce time; and, while the reader is a poll or more behind the topic's end
        (a backlog) and may read more, up to `backlog_linger_s` from when that chat was read, since
        more of the tenant's chats are likely on their way and a bigger batch spends fewer
        calls. Nothing waits while the reader is full: the chats it waits for cannot be
        read until some are written."""
        if self.full:
            return 0.0
        wait = until - time.time()
        if self.behind and not self.full and lane.queue:
            wait = max(wait, lane.queue[0].queued_at + self.backlog_linger_s - time.monotonic())
        return wait

    @property
    def full(self) -> bool:
        """The lanes hold as much as they may: reading is paused."""
        return (
            self.tracker.in_flight >= self.max_records
            or self.tracker.in_flight_bytes >= self.max_bytes
        )

    def _set_behind(self, behind: bool) -> None:
        if behind != self.behind:
            self.behind = behind
            for lane in self.lanes.values():  # lingering lanes look again
                lane.wake.set()

    async def _until(self, done: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        """Wait until `done()` holds, checked whenever a lane's batch ends."""
        async with asyncio.timeout(timeout):
            while not done():
                self._settled.clear()
                await self._settled.wait()

    def commit_offsets(self) -> dict[Partition, int]:
        """Up to the oldest record not finished."""
        return self.tracker.commit_offsets()

    async def settle(self, partitions: set[Partition]) -> None:
        """Partitions taken away: drop what their lanes have not started, finish what they
        are writing (bounded)."""
        for lane in self.lanes.values():
            lane.queue = deque(i for i in lane.queue if i.partition not in partitions)

        def idle() -> bool:
            return not any(
                i.partition in partitions for lane in self.lanes.values() for i in lane.running
            )

        try:
            await self._until(idle, REVOKE_WAIT_S)
        except TimeoutError:
            log.error("rebalance went ahead while a batch was still being written")

    def forget(self, partitions: set[Partition]) -> None:
        self.tracker.release(partitions)
