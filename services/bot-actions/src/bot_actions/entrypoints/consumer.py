"""The `bot.actions.v1` consumer: request records in, exactly one reply each out.

A plain aiokafka consumer in the service's group reads the requests (FastStream's
per-message pipeline cost ~0.3 ms of CPU and latency per request at 1 in flight, for
nothing this consumer uses: it decodes no bodies, acknowledges nothing itself and sends
its replies itself). Per record, in its own task (see `adapters.window`):

1. No `reply_to` header: nowhere to answer, so it is not executed (log + metric).
2. Deadline (`deadline` header, else now + the configured default) already past: the
   caller has given up, so it is not executed and not answered (metric `expired`).
3. The body does not validate (bad JSON, unknown action, missing field, key naming another
   tenant): a `validation` error reply.
4. Otherwise the handler runs until `reply_margin_ms` before the deadline; if Salesforce
   is still busy then, the reply is `deadline_exceeded` (a write may still land).

The reply goes to `reply_to` with the request's `correlation_id`, and Kafka's
confirmation is awaited before the record counts as finished (and may be committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import TypeAdapter, ValidationError

from bot_actions.adapters.window import InFlightWindow
from bot_actions.config import Settings
from bot_actions.domain.errors import ActionError, validation
from bot_actions.handlers import BotActions, BotReply, BotRequest
from bot_actions.metrics import BotMetrics
from chat_contracts.base import TENANT_ID_PATTERN, UNKNOWN_TENANT
from chat_contracts.bot import BotActionRequest
from chat_contracts.bot_replies import BotErrorCode
from chat_contracts.keys import tenant_of_key
from chat_runtime.log_context import TENANT_ID, bound_ids
from chat_runtime.logging import get_logger
from chat_runtime.rr_protocol import CORRELATION_ID, REPLY_TO, deadline_of

log = get_logger(__name__)

_REQUEST: TypeAdapter[BotRequest] = TypeAdapter(BotActionRequest)
_TENANT = re.compile(TENANT_ID_PATTERN)


class ReplySender(Protocol):
    """Publishes one reply (`adapters.replies.KafkaReplies`, or a fake)."""

    async def send(self, topic: str, correlation_id: str, body: bytes) -> None: ...


class Responder:
    """Turns one request record into one reply on its `reply_to` topic."""

    def __init__(
        self,
        replies: ReplySender,
        actions: BotActions,
        metrics: BotMetrics,
        *,
        default_deadline_s: float,
        reply_margin_s: float,
    ) -> None:
        self._replies = replies
        self._actions = actions
        self._metrics = metrics
        self._default_deadline_s = default_deadline_s
        self._margin_s = reply_margin_s

    def skip(self, reason: str) -> None:
        """Count a request neither executed nor answered here."""
        self._metrics.skip(reason)

    async def respond(self, headers: dict[str, str], key: bytes | None, body: bytes) -> None:
        """Handle one request record (never raises); its log lines carry the correlation id
        and the tenant of the record key."""
        ids = {CORRELATION_ID: headers.get(CORRELATION_ID, "")[:128]}
        if key and key.isascii():
            ids[TENANT_ID] = tenant_of_key(key)[:128]
        with bound_ids(ids):
            await self._respond(headers, key, body)

    async def _respond(self, headers: dict[str, str], key: bytes | None, body: bytes) -> None:
        started = time.perf_counter()
        reply_to = headers.get(REPLY_TO, "")
        deadline = deadline_of(headers) or time.time() + self._default_deadline_s
        if not reply_to:
            self._metrics.skip("no_reply_to")
            log.warning("request without reply_to header: not executed", bytes=len(body))
            return
        if time.time() >= deadline:
            self._metrics.skip("expired")
            return
        action, reply = await self.answer(key, body, deadline)
        try:
            await self._replies.send(
                reply_to, headers.get(CORRELATION_ID, ""), reply.model_dump_json().encode()
            )
        except (KafkaError, OSError, RuntimeError) as exc:
            self._metrics.reply_failures.inc()
            log.error("reply not accepted by Kafka", error=repr(exc), reply_to=reply_to)
            return
        self._metrics.answered(action, _outcome(reply), time.perf_counter() - started)

    async def answer(self, key: bytes | None, body: bytes, deadline: float) -> tuple[str, BotReply]:
        """(action, reply) for a request body, by `deadline` (epoch seconds)."""
        try:
            request = _parse(key, body)
        except ActionError as exc:
            return "invalid", exc.reply(_tenant_hint(key, body))
        loop = asyncio.get_running_loop()
        until = loop.time() + (deadline - time.time()) - self._margin_s
        try:
            async with asyncio.timeout_at(until):
                return request.action, await self._actions.handle(request)
        except TimeoutError:
            error = ActionError(
                BotErrorCode.DEADLINE_EXCEEDED,
                "no answer from Salesforce before the request's deadline; "
                "a write may still have happened",
            )
            return request.action, error.reply(request.tenant_id)


def _parse(key: bytes | None, body: bytes) -> BotRequest:
    try:
        request = _REQUEST.validate_json(body)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_input=False)
        fields = [".".join(str(p) for p in e["loc"]) for e in problems if e["loc"]]
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in problems[:5]
        )
        raise validation(f"invalid request: {summary}", fields) from None
    if key and tenant_of_key(key.decode("utf-8", "replace").encode()) != request.tenant_id:
        raise validation("the record key names another tenant than the body", ["tenant_id"])
    return request


def _tenant_hint(key: bytes | None, body: bytes) -> str:
    """The tenant an invalid request was probably for, for its error reply."""
    try:
        tenant = TypeAdapter(dict[str, Any]).validate_json(body).get("tenant_id")
    except ValidationError:
        tenant = None
    if not isinstance(tenant, str) and key:
        tenant = tenant_of_key(key) if key.isascii() else None
    return tenant if isinstance(tenant, str) and _TENANT.match(tenant) else UNKNOWN_TENANT


def _outcome(reply: BotReply) -> str:
    code = getattr(reply, "code", None)
    return str(code.value) if code is not None else reply.status


class RequestConsumer:
    """Reads the request topic and hands every record to the window; commits are the
    window's. `start()` joins the group, `stop()` lets requests in flight finish (bounded),
    commits them and leaves."""

    def __init__(
        self,
        settings: Settings,
        window: InFlightWindow,
        responder: Responder,
        **client_options: Any,
    ) -> None:
        self._settings = settings
        self._window = window
        self._responder = responder
        self._options = client_options
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def reading(self) -> bool:
        """Whether the consumer is up and its read loop alive (readiness)."""
        return self._reader is not None and not self._reader.done()

    async def start(self) -> None:
        """Join the group on the request topic and start reading."""
        settings = self._settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=settings.service_name,
            group_id=settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            **self._options,
        )
        consumer.subscribe([settings.request_topic], listener=self._window.listener())
        await consumer.start()
        self._consumer = consumer
        self._reader = asyncio.create_task(self._read(consumer), name="bot-actions-reader")

    async def stop(self, timeout_s: float) -> None:
        """Stop reading; requests in flight get `timeout_s` to finish and be committed."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._window.close(timeout_s)
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        responder, window = self._responder, self._window
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


def _headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    # Any header may be binary: decode leniently (a strict decode would drop the record
    # before it could be answered, and its caller would wait in vain).
    return {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
