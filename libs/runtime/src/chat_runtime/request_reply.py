"""The asking side of request/reply over Kafka.

FastStream answers requests by itself: a subscriber's return value is published to the
topic named in the request's `reply_to` header, with the request's `correlation_id`
header. What FastStream does not offer against a real broker is the asking side
(`KafkaBroker.request()` only runs inside its test client), so this module is it.

Wire protocol (also in the README, for clients in other languages):

- A request is one Kafka record on the responder's topic, value = JSON, with headers
  `correlation_id` (unique per request), `reply_to` (the caller's reply topic),
  `deadline` (epoch milliseconds after which the caller has given up; a responder must not
  execute a request past it) and `content-type: application/json`.
- Each client instance owns one reply topic, `replies.<client name>.<instance id>`, one
  partition, short retention. It is created at start and deleted at a clean stop.
- The reply is one record on that topic whose `correlation_id` header equals the request's.
  Errors are replies too (a JSON body with `"status": "error"`); a request that gets no reply
  before its deadline fails on the caller's side with `RequestTimeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import BaseModel

from chat_runtime.reply_topics import create_reply_topic, delete_reply_topic, reply_topic_name
from chat_runtime.request_reply_metrics import RequestReplyMetrics
from chat_runtime.rr_protocol import (
    CONTENT_TYPE,
    CORRELATION_ID,
    DEADLINE,
    JSON_CONTENT_TYPE,
    REPLY_TO,
    ClientClosed,
    Reply,
    RequestError,
    RequestNotSent,
    RequestTimeout,
    deadline_of,
    is_expired,
)

log = logging.getLogger(__name__)

__all__ = [
    "ClientClosed",
    "Reply",
    "RequestError",
    "RequestNotSent",
    "RequestReplyClient",
    "RequestTimeout",
    "deadline_of",
    "is_expired",
]


class RequestReplyClient:
    """Send requests to a Kafka topic and await their replies on a private reply topic.

    Many requests may be in flight at once; each has its own timeout, and a timed-out or
    cancelled request leaves nothing behind. Replies for unknown correlation ids (late
    replies, duplicates) are counted and dropped.

    Usage::

        async with RequestReplyClient(bootstrap, name="crm-sync") as client:
            reply = await client.request(topics.AUTH_TOKEN_REQUESTS.name, body, timeout=5)
            token = reply.parse(TokenReply)
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        name: str,
        instance_id: str | None = None,
        default_timeout: float = 10.0,
        metrics: RequestReplyMetrics | None = None,
        reply_topic_retention_ms: int = 60 * 60 * 1000,
        producer: AIOKafkaProducer | None = None,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self.reply_topic = reply_topic_name(name, instance_id)
        self._default_timeout = default_timeout
        self._metrics = metrics or RequestReplyMetrics()
        self._retention_ms = reply_topic_retention_ms
        # Connection security etc. (`ServiceSettings.kafka_security().aiokafka_options()`),
        # applied to every client this one makes.
        self._options = dict(kafka_options or {})
        self._own_producer = producer is None
        # Built in start(): aiokafka clients need the running event loop, and a service's
        # create_app() builds this client before there is one.
        self._producer: AIOKafkaProducer | None = producer
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self._started = False

    @property
    def in_flight(self) -> int:
        """Requests sent and still waiting for a reply."""
        return len(self._pending)

    async def start(self) -> None:
        """Create the reply topic, start reading it from its end, start the producer."""
        if self._started:
            return
        await create_reply_topic(
            self._bootstrap, self.reply_topic, self._retention_ms, **self._options
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            **self._options,
            group_id=None,  # a private topic: no group, no commits, no rebalances
            enable_auto_commit=False,
            client_id=f"rr-reader-{self.reply_topic}"[:200],
        )
        await consumer.start()
        partition = TopicPartition(self.reply_topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        # Resolve the position now: a reply produced before the first fetch must not be
        # skipped by a later "latest" lookup.
        await consumer.position(partition)
        self._consumer = consumer
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                acks="all",
                enable_idempotence=True,
                linger_ms=0,
                client_id=f"rr-{self.reply_topic}"[:200],
                **self._options,
            )
        if self._own_producer:
            await self._producer.start()
        self._reader = asyncio.create_task(self._read_replies(), name=f"rr:{self.reply_topic}")
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
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer is not None:
            await self._consumer.stop()
        if self._own_producer and self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if delete_topic:
            await delete_reply_topic(self._bootstrap, self.reply_topic, **self._options)

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
        """Send one request and wait for its reply; raises RequestTimeout after `timeout` s."""
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
            except KafkaError:
                log.exception("reading replies from %s failed; retrying", self.reply_topic)
                await asyncio.sleep(0.5)
                continue
            for records in batches.values():
                for record in records:
                    self._deliver(record.headers, record.value or b"")

    def _deliver(self, raw_headers: Any, value: bytes) -> None:
        headers = {k: v.decode("utf-8", "replace") for k, v in raw_headers or ()}
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
