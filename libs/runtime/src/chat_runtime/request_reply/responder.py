"""The answering side of request/reply: one request record in, at most one reply out.

Every responder of the suite (auth's token requests, bot-actions, crm-sync's manual
create) is this class with its own request type and handler, so the protocol is kept in
one place. Per record:

1. No `reply_to` header, or one that is not a reply topic (`replies.` prefix): nowhere
   (allowed) to answer, so it is not executed; counted (`no_reply_to`, `bad_reply_to`)
   and logged. A responder never writes into a data topic a caller named.
2. The deadline (`deadline` header, epoch ms; without one, now + `default_deadline_s`)
   has passed, 0 included: the caller has given up, so it is neither executed nor
   answered (`expired`). A `deadline` that is not epoch milliseconds is a `validation`
   error reply.
3. The body does not validate as the request type, or the record key names another tenant
   than the body: a `validation` error reply.
4. Otherwise the handler runs until `reply_margin_s` before the deadline; still running
   then, the reply is `deadline_exceeded` (a write may still land); raising, `internal`.

Error replies produced here are `chat_contracts.rr.ErrorReply` with a generic code, the
shape every responder's own error replies share. The reply goes to `reply_to`, keyed by
tenant, with the request's `correlation_id`; its publish is bounded by the deadline plus
`reply_grace_s` (see `replies`), so a reply topic that is gone never holds anything up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from chat_contracts.base import TENANT_ID_PATTERN, UNKNOWN_TENANT
from chat_contracts.keys import tenant_key, tenant_of_key
from chat_contracts.rr import ErrorReply, GenericErrorCode
from chat_runtime import tracing
from chat_runtime.clock import Clock
from chat_runtime.log_context import TENANT_ID, bound_ids
from chat_runtime.logging import get_logger
from chat_runtime.request_reply.metrics import ResponderMetrics
from chat_runtime.request_reply.protocol import (
    CORRELATION_ID,
    REPLY_TO,
    deadline_of,
    is_reply_topic,
)
from chat_runtime.request_reply.replies import ReplyRefused

log = get_logger(__name__)

R = TypeVar("R")
_TENANT = re.compile(TENANT_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class ResponderOptions:
    """How one responder reads and answers its request topic."""

    topic: str
    group_id: str
    default_deadline_s: float = 10.0
    """Deadline of a request that carries no `deadline` header."""
    reply_margin_s: float = 0.05
    """A handler still running this long before the deadline is abandoned, so the
    `deadline_exceeded` answer still reaches the caller in time."""
    reply_grace_s: float = 1.0
    """How long past the deadline a reply may take to be acknowledged."""
    max_in_flight: int = 512
    serial_by_tenant: bool = False
    """Run one tenant's handlers one after another, in the order read (other tenants
    beside them): for handlers whose requests of one tenant must not race, like two
    "create unless it exists" for one visitor. Only the handler is serialised: a reply
    still being published never holds up the tenant's next request."""
    commit_interval_s: float = 0.2
    revoke_drain_s: float = 5.0
    fetch_max_wait_ms: int = 25


@dataclass(frozen=True, slots=True)
class Request(Generic[R]):
    """A validated request as a handler sees it."""

    body: R
    tenant_id: str
    headers: Mapping[str, str]
    deadline: float
    """Epoch seconds after which the caller has given up."""


Handler = Callable[[Request[R]], Awaitable[BaseModel]]
"""Answers one request with its reply model (a success or the responder's error reply)."""


class ReplySender(Protocol):
    """What the responder publishes replies with (`replies.ReplyPublisher`, or a fake);
    raises `ReplyRefused` when a reply was not delivered."""

    async def send(
        self, topic: str, correlation_id: str, key: bytes | None, body: bytes, bound_s: float
    ) -> None: ...


class Responder(Generic[R]):
    """Turns one request record into at most one reply on its `reply_to` topic."""

    def __init__(
        self,
        options: ResponderOptions,
        request_type: Any,
        handler: Handler[R],
        replies: ReplySender,
        metrics: ResponderMetrics,
        *,
        tenant_of: Callable[[R], str] = lambda request: str(request.tenant_id),  # type: ignore[attr-defined]
        clock: Clock | None = None,
    ) -> None:
        self.options = options
        self._adapter: TypeAdapter[R] = (
            request_type if isinstance(request_type, TypeAdapter) else TypeAdapter(request_type)
        )
        self._handler = handler
        self._replies = replies
        self._metrics = metrics
        self._tenant_of = tenant_of
        self._clock = clock or Clock()
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    def skip(self, reason: str) -> None:
        """Count a request neither executed nor answered here."""
        self._metrics.skip(self.options.topic, reason)

    async def respond(self, headers: Mapping[str, str], key: bytes | None, body: bytes) -> None:
        """Handle one request record; never raises. Its log lines carry the correlation id
        and the tenant of the record key."""
        ids = {CORRELATION_ID: headers.get(CORRELATION_ID, "")[:128]}
        if key:
            ids[TENANT_ID] = tenant_of_key(key)[:128]
        with bound_ids(ids):
            try:
                if not tracing.enabled():
                    await self._respond(headers, key, body)
                    return
                # The caller's trace goes on here (and into Salesforce calls, token requests).
                with tracing.consumer_span(
                    self.options.topic,
                    headers.items(),
                    key=key,
                    group=self.options.group_id,
                    attributes={"messaging.message.conversation_id": ids[CORRELATION_ID]},
                ):
                    await self._respond(headers, key, body)
            except Exception:  # a bug here must not kill the reader or lose the record
                log.exception("request handling failed")

    async def _respond(self, headers: Mapping[str, str], key: bytes | None, body: bytes) -> None:
        started = time.perf_counter()
        reply_to = headers.get(REPLY_TO, "")
        if not reply_to or not is_reply_topic(reply_to):
            reason = "no_reply_to" if not reply_to else "bad_reply_to"
            self.skip(reason)
            log.warning(
                "request not executed: nowhere to answer",
                reason=reason,
                reply_to=reply_to[:200],
                bytes=len(body),
            )
            return
        now = self._clock.epoch()
        try:
            given = deadline_of(headers)
        except ValueError:
            reply: BaseModel = _error(
                _tenant_hint(key, body),
                GenericErrorCode.VALIDATION,
                "the deadline header must be epoch milliseconds",
            )
            deadline = now + self.options.default_deadline_s
        else:
            deadline = now + self.options.default_deadline_s if given is None else given
            if now >= deadline:
                self.skip("expired")
                return
            reply = await self.answer(headers, key, body, deadline)
        await self._send(reply_to, headers.get(CORRELATION_ID, ""), reply, deadline, started)

    async def answer(
        self, headers: Mapping[str, str], key: bytes | None, body: bytes, deadline: float
    ) -> BaseModel:
        """The reply to a request body, by `deadline` (epoch seconds)."""
        try:
            request = self._adapter.validate_json(body)
        except ValidationError as exc:
            return _invalid(_tenant_hint(key, body), exc)
        tenant = self._tenant_of(request)
        if key and tenant_of_key(key) != tenant:
            return _error(
                tenant,
                GenericErrorCode.VALIDATION,
                "the record key names another tenant than the body",
                ("tenant_id",),
            )
        loop = asyncio.get_running_loop()
        until = loop.time() + (deadline - self._clock.epoch()) - self.options.reply_margin_s
        call = Request(request, tenant, headers, deadline)
        try:
            async with asyncio.timeout_at(until):
                if not self.options.serial_by_tenant:
                    return await self._handler(call)
                async with self._turn(tenant):
                    return await self._handler(call)
        except TimeoutError:
            return _error(
                tenant,
                GenericErrorCode.DEADLINE_EXCEEDED,
                "no answer before the request's deadline; a write may still have happened",
            )
        except Exception:
            log.exception("request handler failed")
            return _error(tenant, GenericErrorCode.INTERNAL, "internal error")

    @contextlib.asynccontextmanager
    async def _turn(self, tenant: str) -> AsyncIterator[None]:
        # asyncio.Lock wakes its waiters first come, first served: the order read.
        lock, waiting = self._turns.get(tenant) or (asyncio.Lock(), 0)
        self._turns[tenant] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[tenant]
            if waiting == 1:  # nobody else holds or waits: forget the lock
                del self._turns[tenant]
            else:
                self._turns[tenant] = (lock, waiting - 1)

    async def _send(
        self, reply_to: str, correlation_id: str, reply: BaseModel, deadline: float, started: float
    ) -> None:
        tenant = getattr(reply, "tenant_id", UNKNOWN_TENANT)
        key = None if tenant == UNKNOWN_TENANT else tenant_key(tenant)
        bound = max(0.0, deadline - self._clock.epoch()) + self.options.reply_grace_s
        topic = self.options.topic
        try:
            # model_dump_json is the one form that reveals a secret a reply carries (an
            # access token): the reply's purpose.
            await self._replies.send(
                reply_to, correlation_id, key, reply.model_dump_json().encode(), bound
            )
        except ReplyRefused as exc:
            self._metrics.reply_failed(topic, exc.reason)
            log.warning("reply not delivered", reason=exc.reason, reply_to=reply_to[:200])
            return
        self._metrics.answered(topic, reply_outcome(reply), time.perf_counter() - started)


def reply_outcome(reply: BaseModel) -> str:
    """A reply as a metric label: its error code, else its status."""
    return str(getattr(reply, "code", None) or getattr(reply, "status", "ok"))


def _error(
    tenant: str, code: GenericErrorCode, message: str, fields: tuple[str, ...] | None = None
) -> ErrorReply:
    return ErrorReply(tenant_id=tenant, code=code.value, message=message, fields=fields)


def _invalid(tenant: str, exc: ValidationError) -> ErrorReply:
    problems = exc.errors(include_url=False, include_input=False)
    fields = tuple(".".join(str(p) for p in e["loc"]) for e in problems if e["loc"])
    summary = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in problems[:5]
    )
    return _error(
        tenant, GenericErrorCode.VALIDATION, f"invalid request: {summary}"[:2000], fields or None
    )


def _tenant_hint(key: bytes | None, body: bytes) -> str:
    """The tenant an invalid request was probably for, for its error reply."""
    try:
        decoded = json.loads(body)
        tenant = decoded.get("tenant_id") if isinstance(decoded, dict) else None
    except ValueError:
        tenant = None
    if not isinstance(tenant, str) and key:
        tenant = tenant_of_key(key)
    return tenant if isinstance(tenant, str) and _TENANT.fullmatch(tenant) else UNKNOWN_TENANT
