"""The `bot.actions.v1` subscriber: request records in, exactly one reply each out.

Per record, in its own task (see `adapters.window`):

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
import re
import time
from typing import Any, Protocol, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.message import StreamMessage
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
from chat_runtime.app import subscriber
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
        """Handle one request record (never raises)."""
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


def register_consumer(
    broker: KafkaBroker, settings: Settings, window: InFlightWindow, responder: Responder
) -> DefaultSubscriber:
    """Subscribe to the request topic: one consumer in the service's group, requests
    handled concurrently by `window`, offsets committed by it (`AckPolicy.MANUAL`)."""
    sub = subscriber(
        broker,
        settings.request_topic,
        group_id=settings.group_id,
        ack_policy=AckPolicy.MANUAL,
        no_reply=True,  # replies are published by the responder, one per request
        listener=window.listener(),
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )

    async def parse(record: ConsumerRecord[Any, Any]) -> StreamMessage[Any]:
        # FastStream's parser decodes every header strictly: one binary header would make
        # the record fail before any handler ran, and its caller would wait in vain.
        headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
        return KafkaAckableMessage(
            raw_message=record,
            body=record.value or b"",
            headers=headers,
            reply_to=headers.get(REPLY_TO, ""),
            content_type=headers.get("content-type"),
            message_id=f"{record.offset}-{record.timestamp}",
            correlation_id=headers.get(CORRELATION_ID) or None,
            consumer=sub.consumer,
        )

    async def decode(message: StreamMessage[Any]) -> Any:
        # The handler takes the record itself: no JSON decoding here (the responder
        # validates the body once) and no context injection (FastStream resolves a
        # `Context` parameter on a worker thread, one thread hop per record).
        return message.raw_message

    @sub(parser=parse, decoder=decode)
    async def on_request(record: Any) -> None:
        consumer = cast("AIOKafkaConsumer", sub.consumer)
        headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}

        async def work() -> None:
            await responder.respond(headers, record.key, record.value or b"")

        if not await window.submit(record, consumer, work):
            responder.skip("closing")

    return sub
