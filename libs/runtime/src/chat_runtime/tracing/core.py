"""The switch, the W3C headers and the span helpers (see the package's docstring)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind, StatusCode, Tracer
from opentelemetry.trace import Span as Span

Headers = tuple[tuple[str, bytes], ...]
TRACE_HEADERS: Final = frozenset({"traceparent", "tracestate"})
SCOPE: Final = "chat_runtime"
_tracer: Tracer | None = None
_provider: Any = None


def configure_tracing(service_name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Export spans over OTLP/HTTP when the environment names an endpoint; whether tracing
    is on. Once per process: a later call (another app in the process) changes nothing."""
    if _tracer is not None:
        return True
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not endpoint or environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    # Imported here: a process that does not trace never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    install(provider)
    return True


def install(provider: Any) -> None:
    """Trace through `provider` (a `TracerProvider`; tests pass one with an in-memory
    exporter); None turns tracing off again."""
    global _tracer, _provider  # the process's one switch, read on hot paths
    _provider = provider
    _tracer = None if provider is None else provider.get_tracer(SCOPE)


def current_tracer() -> Tracer | None:
    """The tracer, None when tracing is off."""
    return _tracer


def enabled() -> bool:
    """Tracing is on: guard any work done only for spans with it."""
    return _tracer is not None


def flush() -> None:
    """Export what is buffered (at shutdown)."""
    if _provider is not None and hasattr(_provider, "force_flush"):
        _provider.force_flush()


def extract(headers: Iterable[tuple[str, bytes | str | None]]) -> Context:
    """The trace context Kafka (or HTTP) headers carry (an empty one when none)."""
    carrier = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in TRACE_HEADERS and value is not None:
            carrier[lowered] = value.decode("latin-1") if isinstance(value, bytes) else value
    return propagate.extract(carrier)


def context_headers(context: Context | None = None) -> Headers:
    """`traceparent`/`tracestate` of `context` (default: the current span) as Kafka
    headers; none when tracing is off."""
    if _tracer is None:
        return ()
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return tuple((k, v.encode()) for k, v in carrier.items() if k in TRACE_HEADERS)


def with_context(headers: Headers, context: Context | None = None) -> Headers:
    """`headers` plus the trace context, unless they carry one already (or tracing is off)."""
    if _tracer is None or any(name in TRACE_HEADERS for name, _ in headers):
        return headers
    return (*headers, *context_headers(context))


def messaging(
    topic: str,
    operation: str,
    *,
    key: bytes | str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """The messaging semantic conventions' attributes of one Kafka operation."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
    }
    if key is not None:
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        attributes["messaging.kafka.message.key"] = text
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    if group:
        attributes["messaging.consumer.group.name"] = group
    return attributes


@contextlib.contextmanager
def span(
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
    *,
    context: Context | None = None,
    links: Sequence[Link] = (),
) -> Iterator[Span | None]:
    """A current span (None, and nothing done, when tracing is off); an exception marks
    it failed and goes on."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes, links=links
    ) as current:
        yield current


_UNTRACED: Final = contextlib.nullcontext()
_ROOT: Final = Context()


def consumer_span(
    topic: str,
    headers: Iterable[tuple[str, bytes | str | None]],
    *,
    key: bytes | None = None,
    group: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> contextlib.AbstractContextManager[Span | None]:
    """`process <topic>`: a CONSUMER span for one message, child of the context its
    `headers` carry."""
    if _tracer is None:
        return _UNTRACED
    values = {**messaging(topic, "process", key=key, group=group), **(attributes or {})}
    return span(f"process {topic}", SpanKind.CONSUMER, values, context=extract(headers))


def server_span(
    name: str, attributes: Mapping[str, Any], headers: Iterable[tuple[str, bytes | str | None]]
) -> contextlib.AbstractContextManager[Span | None]:
    """A SERVER span that starts a trace. A context the caller's `headers` carry is
    linked, not continued: a caller from outside does not decide our traces."""
    if _tracer is None:
        return _UNTRACED
    sent = trace.get_current_span(extract(headers)).get_span_context()
    links = [Link(sent)] if sent.is_valid else []
    return span(name, SpanKind.SERVER, attributes, context=_ROOT, links=links)


def client_span(
    name: str, attributes: Mapping[str, Any]
) -> contextlib.AbstractContextManager[Span | None]:
    """A CLIENT span (an outgoing call), child of the current span."""
    if _tracer is None:
        return _UNTRACED
    return span(name, SpanKind.CLIENT, attributes)


def failed(current: Span | None, error_type: str) -> None:
    """Mark a span failed (`error.type`), without an exception."""
    if current is not None:
        current.set_status(StatusCode.ERROR, error_type)
        current.set_attribute("error.type", error_type)


def producer_span(
    topic: str, *, key: bytes | None = None
) -> contextlib.AbstractContextManager[Span | None]:
    """`send <topic>`: a PRODUCER span; headers taken inside it carry it."""
    if _tracer is None:
        return _UNTRACED
    return span(f"send {topic}", SpanKind.PRODUCER, messaging(topic, "send", key=key))
