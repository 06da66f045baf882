"""The request/reply wire protocol: header names, the reply value, errors, deadlines.

See `chat_runtime.request_reply` (the client and the responder) and the README's
"Request/reply over Kafka".
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import TypeAdapter

from chat_contracts.topics import REPLY_TOPIC_PREFIX

CORRELATION_ID = "correlation_id"
REPLY_TO = "reply_to"
DEADLINE = "deadline"
CONTENT_TYPE = "content-type"
JSON_CONTENT_TYPE = "application/json"

T = TypeVar("T")


class RequestError(Exception):
    """Base class of the errors a request can end with on the caller's side."""


class RequestTimeout(RequestError, TimeoutError):
    """No reply arrived before the request's deadline."""


class ClientClosed(RequestError):
    """The client stopped while the request was waiting."""


class RequestNotSent(RequestError):
    """Kafka did not accept the request record."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply as received: raw value plus decoded headers."""

    value: bytes
    headers: Mapping[str, str]
    correlation_id: str

    def json(self) -> Any:
        """The value decoded as JSON."""
        return json.loads(self.value)

    def parse(self, type_: type[T] | TypeAdapter[T]) -> T:
        """The value validated as `type_` (a pydantic model, union or any type)."""
        adapter = type_ if isinstance(type_, TypeAdapter) else TypeAdapter(type_)
        return adapter.validate_json(self.value)


class Requester(Protocol):
    """What callers need of a request/reply client (`RequestReplyClient`, the lazy one, or a
    test's fake)."""

    async def request(
        self,
        topic: str,
        value: Any,
        *,
        key: bytes | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's deadline
        headers: Mapping[str, str] | None = None,
    ) -> Reply: ...


def deadline_of(headers: Mapping[str, str]) -> float | None:
    """A request's deadline in epoch seconds, or None when it carries none.

    ValueError when the header is not whole epoch milliseconds. A deadline of 0 (or any
    time past) is a deadline, not "none": the request has expired."""
    raw = headers.get(DEADLINE)
    if raw is None:
        return None
    return int(raw.strip()) / 1000


def is_expired(headers: Mapping[str, str], now: float | None = None) -> bool:
    """True when the caller has given up on this request; responders skip such requests.
    No deadline: False (the responder's default applies). ValueError when malformed."""
    deadline = deadline_of(headers)
    return deadline is not None and (time.time() if now is None else now) >= deadline


def is_reply_topic(topic: str) -> bool:
    """Whether a responder may publish to `topic`: only reply topics (`replies.` prefix),
    never a data topic a caller named by mistake or to inject records."""
    return topic.startswith(REPLY_TOPIC_PREFIX) and len(topic) > len(REPLY_TOPIC_PREFIX)
