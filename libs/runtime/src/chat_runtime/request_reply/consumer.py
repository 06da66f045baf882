"""The request consumer: reads a request topic in a group and hands every record to the
in-flight window (`window`), which runs the responder on it and commits offsets.

A plain aiokafka consumer rather than a FastStream subscriber: FastStream's per-message
pipeline cost ~0.3 ms of CPU and latency per request at 1 in flight, for nothing this
consumer uses (it decodes no bodies, acknowledges nothing itself and sends its replies
itself), and its `ack()` commits everything read so far, not just what is finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from chat_runtime.request_reply.metrics import ResponderMetrics
from chat_runtime.request_reply.ownership import KeyOwnership
from chat_runtime.request_reply.replies import ReplyPublisher
from chat_runtime.request_reply.responder import Handler, Responder, ResponderOptions
from chat_runtime.request_reply.window import InFlightWindow

log = get_logger(__name__)


class RequestConsumer:
    """One responder's whole answering side: `start()` connects the reply producer and
    joins the group; `stop()` stops reading, lets requests in flight finish (bounded),
    commits them, leaves the group and closes the producer. Given `ownership`, it is told
    which partitions this member holds, and hands them over (see `ownership`) before the
    group may give them to another member: at a rebalance and when stopping."""

    def __init__(
        self,
        kit: KafkaKit,
        options: ResponderOptions,
        request_type: Any,
        handler: Handler[Any],
        metrics: ResponderMetrics,
        ownership: KeyOwnership | None = None,
        **responder_options: Any,
    ) -> None:
        self._kit = kit
        self.ownership = ownership
        self.options = options
        self.replies = ReplyPublisher(kit)
        self.responder: Responder[Any] = Responder(
            options, request_type, handler, self.replies, metrics, **responder_options
        )
        self.window = InFlightWindow(
            options.max_in_flight,
            commit_interval_s=options.commit_interval_s,
            revoke_drain_s=options.revoke_drain_s,
            on_in_flight=metrics.in_flight_now(options.topic).set,
        )
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def reading(self) -> bool:
        """Whether the reply producer is up and the read loop alive (readiness)."""
        return self.replies.started and self._reader is not None and not self._reader.done()

    async def ready(self) -> bool:
        """`reading`, as a readiness check."""
        return self.reading

    async def start(self) -> None:
        """Connect the reply producer, join the group on the request topic, read."""
        await self.replies.start()
        consumer = self._kit.consumer(
            "requests",
            group_id=self.options.group_id,
            fetch_max_wait_ms=self.options.fetch_max_wait_ms,
        )
        consumer.subscribe([self.options.topic], listener=_Rebalance(self, consumer))
        await consumer.start()
        self._consumer = consumer
        self._reader = asyncio.create_task(self._read(consumer), name=f"rr:{self.options.topic}")

    async def stop(self, timeout_s: float) -> None:
        """Stop reading; requests in flight get `timeout_s` to finish and be committed."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self.window.close(timeout_s)
        if self.ownership is not None:
            await self.ownership.revoked()  # leaving the group calls no listener
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        await self.replies.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        responder, window = self.responder, self.window
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000)
            except Exception as exc:  # noqa: BLE001 - a reader that dies answers no one
                log.error("reading requests failed; retrying", error=repr(exc))
                await asyncio.sleep(1)
                continue
            for records in batches.values():
                for record in records:
                    work = functools.partial(
                        responder.respond, _headers(record), record.key, record.value or b""
                    )
                    if not await window.submit(record, consumer, work):
                        responder.skip("closing")


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """The window's listener, with the ownership told first of a revocation (no new work
    for those keys, the running work finished) and of an assignment."""

    def __init__(self, requests: RequestConsumer, consumer: AIOKafkaConsumer) -> None:
        self._requests = requests
        self._consumer = consumer
        self._window = requests.window.listener()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self._requests.ownership is not None:
            await self._requests.ownership.revoked(revoked)
        await self._window.on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        ownership = self._requests.ownership
        if ownership is not None:
            total = self._consumer.partitions_for_topic(ownership.topic) or set()
            ownership.assigned(assigned, len(total))
        await self._window.on_partitions_assigned(assigned)


def _headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    # Any header may be binary: decode leniently (a strict decode would drop the record
    # before it could be answered, and its caller would wait in vain).
    return {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
