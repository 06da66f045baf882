"""The asking side of request/reply over Kafka.

FastStream's `KafkaBroker.request()` only runs inside its test client, so this module is
the asking side of the suite's request/reply protocol (the answering side is
`chat_runtime.request_reply.responder`).

Wire protocol (also in the README, for clients in other languages):

- A request is one Kafka record on the responder's topic, value = JSON, with headers
  `correlation_id` (unique per request), `reply_to` (the caller's reply topic),
  `deadline` (epoch milliseconds after which the caller has given up; a responder must not
  execute a request past it) and `content-type: application/json`.
- Each client instance owns one reply topic, `replies.<principal>.<instance id>`, one
  partition, short retention. It is created at start and deleted at a clean stop; while
  the client runs it writes a heartbeat record there, so the pruner can tell a topic whose
  owner died (`topics.prune`).
- The reply is one record on that topic whose `correlation_id` header equals the request's.
  Errors are replies too (a JSON body with `"status": "error"`); a request that gets no reply
  before its deadline fails on the caller's side with `RequestTimeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from chat_runtime import tracing
from chat_runtime.kafka import KafkaKit
from chat_runtime.logging import get_logger
from chat_runtime.request_reply.metrics import RequestReplyMetrics
from chat_runtime.request_reply.protocol import (
    CONTENT_TYPE,
    CORRELATION_ID,
    DEADLINE,
    JSON_CONTENT_TYPE,
    REPLY_TO,
    ClientClosed,
    Reply,
    RequestNotSent,
    RequestTimeout,
)
from chat_runtime.request_reply.topics import (
    HEARTBEAT,
    ReplyTopicOptions,
    create_reply_topic,
    delete_reply_topic,
    reply_topic_name,
)

log = get_logger(__name__)


class RequestReplyClient:
    """Send requests to a Kafka topic and await their replies on a private reply topic.

    Many requests may be in flight at once; each has its own timeout, and a timed-out or
    cancelled request leaves nothing behind. Replies for unknown correlation ids (late
    replies, duplicates) are counted and dropped.

    Usage::

        async with RequestReplyClient("127.0.0.1:9092", name="bot-runtime") as client:
            reply = await client.request(topics.BOT_ACTIONS.name, body, timeout=5)
            answer = reply.parse(BotActionReply)

    `kafka` is a `KafkaKit` (a service's, with its connection security) or bootstrap
    servers. `name` is the principal the client acts as: its reply topic is under
    `replies.<name>.`, the prefix that principal's Kafka ACLs let it read.
    """

    def __init__(
        self,
        kafka: KafkaKit | str,
        *,
        name: str,
        instance_id: str | None = None,
        default_timeout: float = 10.0,
        metrics: RequestReplyMetrics | None = None,
        topic_options: ReplyTopicOptions | None = None,
        producer: AIOKafkaProducer | None = None,
    ) -> None:
        self._kit = (kafka if isinstance(kafka, KafkaKit) else KafkaKit(kafka)).named(name)
        self.reply_topic = reply_topic_name(name, instance_id)
        self._default_timeout = default_timeout
        self._metrics = metrics or RequestReplyMetrics()
        self._topic_options = topic_options or ReplyTopicOptions()
        self._own_producer = producer is None
        # Built in start(): aiokafka clients need the running event loop, and a service's
        # create_app() builds this client before there is one.
        self._producer: AIOKafkaProducer | None = producer
        self._consumer: AIOKafkaConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._started = False

    @property
    def in_flight(self) -> int:
        """Requests sent and still waiting for a reply."""
        return len(self._pending)

    async def start(self) -> None:
        """Start the producer, create the reply topic and mark it alive at once (the
        pruner takes a topic with no record for gone), then read it from its end."""
        if self._started:
            return
        if self._producer is None:
            self._producer = self._kit.producer("rr")
        if self._own_producer:
            await self._producer.start()
        await create_reply_topic(self._kit, self.reply_topic, self._topic_options)
        await self._heartbeat()
        # A private topic: no group, no commits, no rebalances.
        consumer = self._kit.consumer("rr-reader")
        await consumer.start()
        partition = TopicPartition(self.reply_topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        # Resolve the position now: a reply produced before the first fetch must not be
        # skipped by a later "latest" lookup.
        await consumer.position(partition)
        self._consumer = consumer
        self._tasks = [
            asyncio.create_task(self._read_replies(), name=f"rr:{self.reply_topic}"),
            asyncio.create_task(self._keep_beating(), name=f"rr-heartbeat:{self.reply_topic}"),
        ]
        self._started = True

    async def stop(self, *, delete_topic: bool = True) -> None:
        """Fail waiting requests with ClientClosed, stop reading, drop the reply topic."""
        if not self._started:
            return
        self._started = False
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ClientClosed("request/reply client stopped"))
        self._pending.clear()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._consumer is not None:
            await self._consumer.stop()
        if self._own_producer and self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if delete_topic:
            await delete_reply_topic(self._kit, self.reply_topic)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _heartbeat(self) -> None:
        assert self._producer is not None
        await self._producer.send_and_wait(
            self.reply_topic, b"", headers=[(HEARTBEAT, str(int(time.time() * 1000)).encode())]
        )

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(self._topic_options.heartbeat_s)
            try:
                await self._heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged; the next beat tries again
                # A pruner that took the topic for dead (a long pause) deleted it: make it
                # again, so replies reach this client once more.
                log.warning("reply topic heartbeat failed", topic=self.reply_topic, error=repr(exc))
                with contextlib.suppress(KafkaError, RuntimeError):
                    await create_reply_topic(self._kit, self.reply_topic, self._topic_options)

    async def request(
        self,
        topic: str,
        value: bytes | BaseModel | Mapping[str, Any],
        *,
        key: bytes | None = None,
        # The timeout is part of the protocol (it becomes the `deadline` header), so it is a
        # parameter rather than the caller's asyncio.timeout().
        timeout: float | None = None,  # noqa: ASYNC109
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request and wait for its reply; raises RequestTimeout after `timeout` s.
        The request carries the caller's trace (`chat_runtime.tracing`)."""
        if not tracing.enabled():
            return await self._request(topic, value, key, timeout, headers)
        with tracing.producer_span(topic, key=key):
            traced = {k: v.decode() for k, v in tracing.context_headers()}
            return await self._request(topic, value, key, timeout, {**(headers or {}), **traced})

    async def _request(
        self,
        topic: str,
        value: bytes | BaseModel | Mapping[str, Any],
        key: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 - see request()
        headers: Mapping[str, str] | None,
    ) -> Reply:
        if not self._started or self._producer is None:
            raise RuntimeError("RequestReplyClient.start() must be awaited first")
        timeout = self._default_timeout if timeout is None else timeout
        correlation_id = uuid.uuid4().hex
        deadline_ms = int((time.time() + timeout) * 1000)
        record_headers = [
            (CORRELATION_ID, correlation_id.encode()),
            (REPLY_TO, self.reply_topic.encode()),
            (DEADLINE, str(deadline_ms).encode()),
            (CONTENT_TYPE, JSON_CONTENT_TYPE.encode()),
            *((k, v.encode()) for k, v in (headers or {}).items()),
        ]
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        self._metrics.in_flight.inc()
        started = time.perf_counter()
        outcome = "ok"
        try:
            async with asyncio.timeout(timeout):
                delivery = await self._producer.send(
                    topic, _encode(value), key=key, headers=record_headers
                )
                delivery.add_done_callback(lambda d: _fail_on_send_error(d, future))
                return await future
        except TimeoutError:
            outcome = "timeout"
            raise RequestTimeout(
                f"no reply from {topic} within {timeout:.3g}s (correlation_id={correlation_id})"
            ) from None
        except KafkaError as exc:
            outcome = "not_sent"
            raise RequestNotSent(f"request to {topic} not accepted by Kafka: {exc}") from exc
        except RequestNotSent:
            outcome = "not_sent"
            raise
        except BaseException:
            outcome = "error"
            raise
        finally:
            self._pending.pop(correlation_id, None)
            self._metrics.in_flight.dec()
            self._metrics.finished(topic, outcome, time.perf_counter() - started)

    async def _read_replies(self) -> None:
        assert self._consumer is not None
        consumer = self._consumer
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:
                log.warning(
                    "reading replies failed; retrying", topic=self.reply_topic, error=repr(exc)
                )
                await asyncio.sleep(0.5)
                continue
            for records in batches.values():
                for record in records:
                    self._deliver(record.headers, record.value or b"")

    def _deliver(self, raw_headers: Any, value: bytes) -> None:
        headers = {k: v.decode("utf-8", "replace") for k, v in raw_headers or ()}
        if HEARTBEAT in headers:
            return
        correlation_id = headers.get(CORRELATION_ID, "")
        future = self._pending.pop(correlation_id, None)
        if future is None or future.done():
            # A reply after its request timed out, a duplicate, or someone else's.
            self._metrics.unknown_replies.inc()
            return
        future.set_result(Reply(value=value, headers=headers, correlation_id=correlation_id))


def _encode(value: bytes | BaseModel | Mapping[str, Any]) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json().encode()
    return json.dumps(value, separators=(",", ":"), default=str).encode()


def _fail_on_send_error(delivery: asyncio.Future[Any], reply: asyncio.Future[Reply]) -> None:
    if delivery.cancelled() or reply.done():
        return
    error = delivery.exception()
    if error is not None:
        reply.set_exception(RequestNotSent(f"request not accepted by Kafka: {error}"))


class LazyRequestReplyClient:
    """A `RequestReplyClient` built by `factory` at `start()`, with the same `request()`.

    For services: their object graph is built before the event loop runs, and aiokafka
    clients bind to the loop that exists when they are created. Before `start()` and
    after `stop()`, `request()` raises `ClientClosed`.
    """

    def __init__(self, factory: Callable[[], RequestReplyClient]) -> None:
        self._factory = factory
        self._client: RequestReplyClient | None = None

    @property
    def started(self) -> bool:
        """Whether requests can be sent (readiness)."""
        return self._client is not None

    async def start(self) -> None:
        """Build and start the client (its reply topic, reader and producer)."""
        if self._client is None:
            client = self._factory()
            await client.start()
            self._client = client

    async def stop(self) -> None:
        """Stop the client and delete its reply topic."""
        client, self._client = self._client, None
        if client is not None:
            await client.stop()

    async def request(
        self,
        topic: str,
        value: bytes | BaseModel | Mapping[str, Any],
        *,
        key: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's deadline
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """`RequestReplyClient.request`."""
        if self._client is None:
            raise ClientClosed("the request/reply client is not running")
        return await self._client.request(topic, value, key=key, timeout=timeout, headers=headers)
