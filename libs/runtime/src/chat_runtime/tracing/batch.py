"""`BatchTrace`: the spans of a batch of messages handled together."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, StatusCode

from chat_runtime.tracing.core import Headers, context_headers, current_tracer, extract, messaging


class Consumed(Protocol):
    """A consumed record as tracing reads it (aiokafka's `ConsumerRecord` is one)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int | None: ...
    @property
    def offset(self) -> int | None: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


T = TypeVar("T")


class BatchTrace(Generic[T]):
    """Spans of a batch of messages handled together (`with BatchTrace(...) as batch:`):
    per message a CONSUMER span named `step`, child of the context the message carries and
    linked to the batch span; the batch span `process <topic>` linked to every message's
    context, current inside the block, and a child of the message's span when the batch
    holds one (`describe` adds attributes to a message's span). Records produced for a
    message take `headers_for(item)`."""

    def __init__(
        self,
        topic: str,
        step: str,
        items: Sequence[T],
        record_of: Callable[[T], Consumed],
        *,
        group: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        describe: Callable[[T], Mapping[str, Any]] | None = None,
    ) -> None:
        self._topic, self._step, self._items, self._record_of = topic, step, items, record_of
        self._group, self._attributes, self._describe = group, attributes or {}, describe
        self._spans: dict[int, Span] = {}
        self._batch: contextlib.AbstractContextManager[Span] | None = None

    def __enter__(self) -> BatchTrace[T]:
        tracer = current_tracer()
        if tracer is None or not self._items:
            return self
        links = []
        for item in self._items:
            record = self._record_of(item)
            parent = extract(record.headers)
            attributes = messaging(
                record.topic,
                "process",
                key=record.key,
                partition=record.partition,
                offset=record.offset,
                group=self._group,
            )
            if self._describe is not None:
                attributes.update(self._describe(item))
            own = tracer.start_span(self._step, parent, SpanKind.CONSUMER, attributes)
            self._spans[id(item)] = own
            remote = trace.get_current_span(parent).get_span_context()
            if remote.is_valid:
                links.append(Link(remote))
        only = self._spans[id(self._items[0])] if len(self._items) == 1 else None
        attributes = {
            **messaging(self._topic, "process", group=self._group),
            "messaging.batch.message_count": len(self._items),
            **self._attributes,
        }
        self._batch = tracer.start_as_current_span(
            f"process {self._topic}",
            trace.set_span_in_context(only) if only is not None else Context(),
            SpanKind.CONSUMER,
            attributes,
            links,
        )
        batch = self._batch.__enter__()
        for own in self._spans.values():
            own.add_link(batch.get_span_context())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.__exit__(exc_type, exc, tb)
        for own in self._spans.values():
            if exc is not None:
                own.set_status(StatusCode.ERROR, type(exc).__name__)
            own.end()
        self._spans.clear()

    def headers_for(self, item: T) -> Headers:
        """The trace headers of records produced for `item` (none when off)."""
        own = self._spans.get(id(item))
        return () if own is None else context_headers(trace.set_span_in_context(own))
