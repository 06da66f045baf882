"""Per-message log context: tenant_id, message_id and correlation_id on every line.

The ids are bound with structlog's contextvars while a message is handled, so any log call
in the handler, in code it calls, in tasks it starts and in stdlib loggers (aiokafka,
simple-salesforce) carries them without passing a logger around.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.types import AsyncFuncAny

TENANT_ID = "tenant_id"
MESSAGE_ID = "message_id"
CORRELATION_ID = "correlation_id"
CONTEXT_KEYS = (TENANT_ID, MESSAGE_ID, CORRELATION_ID)

# Ids come from producers we do not all control: bound their size in every log line.
_MAX_ID_LEN = 128
# Bodies above this are not peeked into for ids (parsing twice would cost too much).
_MAX_PEEK_BYTES = 256 * 1024


def ids_from_record(headers: Iterable[tuple[str, bytes]], value: bytes | None) -> dict[str, str]:
    """The context ids of a Kafka record: from its headers, else from its JSON body.

    Headers win (FastStream writes `correlation_id` there); the body's top-level
    `tenant_id`/`message_id` fields (every contract has them) fill the gaps.
    """
    ids: dict[str, str] = {}
    for name, raw in headers:
        if name in CONTEXT_KEYS and raw:
            ids[name] = raw.decode("utf-8", errors="replace")[:_MAX_ID_LEN]
    if len(ids) < len(CONTEXT_KEYS) and value and len(value) <= _MAX_PEEK_BYTES:
        for key, found in _peek_body(value).items():
            ids.setdefault(key, found)
    return ids


def _peek_body(value: bytes) -> dict[str, str]:
    if value.lstrip()[:1] != b"{":
        return {}
    try:
        body = json.loads(value)
    except ValueError:  # not JSON: the DLQ path deals with it, logging must not
        return {}
    if not isinstance(body, dict):
        return {}
    return {
        key: str(body[key])[:_MAX_ID_LEN]
        for key in CONTEXT_KEYS
        if isinstance(body.get(key), str | int)
    }


@contextmanager
def bound_ids(ids: Mapping[str, str]) -> Iterator[None]:
    """Bind `ids` to the log context for the block, restoring what was bound before."""
    tokens = structlog.contextvars.bind_contextvars(**ids)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


class LogContextMiddleware(BaseMiddleware):
    """FastStream broker middleware binding a consumed record's ids for its handling.

    Bound on receive, so FastStream's own "Received" line carries them; copied into
    FastStream's `log_context` too, because its "Processed" and error lines are written after
    broker middlewares have exited, when the contextvars are already reset.
    """

    _tokens: Mapping[str, contextvars.Token[Any]] | None = None
    _ids: dict[str, str] | None = None

    async def on_receive(self) -> None:
        """Bind the record's ids (batches carry many messages: nothing is bound)."""
        record = self.msg
        if isinstance(record, ConsumerRecord):
            self._ids = ids_from_record(record.headers or (), record.value)
            self._tokens = structlog.contextvars.bind_contextvars(**self._ids)

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        """Share the ids with FastStream's log context, then handle the message."""
        if self._ids:
            log_context = self.context.get_local("log_context")
            if isinstance(log_context, dict):
                log_context.update(self._ids)
        return await call_next(msg)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        """Unbind, so nothing of this message leaks into the next one's lines."""
        if self._tokens is not None:
            structlog.contextvars.reset_contextvars(**self._tokens)
            self._tokens = None
        return False
