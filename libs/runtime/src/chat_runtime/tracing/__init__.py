"""OpenTelemetry tracing across the Kafka hops: W3C `traceparent`/`tracestate` headers and
the messaging semantic conventions, exported over OTLP/HTTP, or nothing.

`configure_tracing(service_name)` (every service's `make_service_app` calls it) installs
an SDK tracer provider with a batching OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, and nothing otherwise: every helper
here then returns at once (`enabled()` is one global read), no header is parsed and no
attribute built, so tracing costs nothing when it is off. The standard variables apply
(`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, `OTEL_SDK_DISABLED`, ...).

A message carries the context of the span that produced it. A consumer continues it: one
message, a span whose parent is that context (`consumer_span`); a batch, `BatchTrace`: a
span per message, child of the message's context, and one span for the batch linked to
every message (and, when the batch holds one message, inside that message's span, so its
trace holds the batch's work). Records produced for one message carry that message's
span (`BatchTrace.headers_for`). Tests install a provider of their own (`install`).
"""

from chat_runtime.tracing.batch import BatchTrace, Consumed
from chat_runtime.tracing.core import (
    TRACE_HEADERS,
    Headers,
    Span,
    client_span,
    configure_tracing,
    consumer_span,
    context_headers,
    enabled,
    extract,
    failed,
    flush,
    install,
    messaging,
    producer_span,
    server_span,
    span,
    with_context,
)

__all__ = [
    "TRACE_HEADERS",
    "BatchTrace",
    "Consumed",
    "Headers",
    "Span",
    "client_span",
    "configure_tracing",
    "consumer_span",
    "context_headers",
    "enabled",
    "extract",
    "failed",
    "flush",
    "install",
    "messaging",
    "producer_span",
    "server_span",
    "span",
    "with_context",
]
