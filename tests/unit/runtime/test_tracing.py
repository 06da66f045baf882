"""`chat_runtime.tracing`: W3C headers in and out of Kafka records, the batch spans, and
nothing at all when tracing is off."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, get_current_span

from chat_runtime import tracing

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def test_off_by_default_and_without_an_endpoint() -> None:
    assert not tracing.enabled()
    assert not tracing.configure_tracing("svc", environ={})
    assert not tracing.configure_tracing(
        "svc", environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert not tracing.enabled()


def test_off_adds_no_headers_and_makes_no_spans() -> None:
    headers = (("content-type", b"application/json"),)
    assert tracing.context_headers() == ()
    assert tracing.with_context(headers) is headers
    with tracing.producer_span("t") as span, tracing.client_span("c", {}) as client:
        assert span is None
        assert client is None
    items = [Record("t", 0, 1, b"k", ((("traceparent", PARENT.encode())),))]
    with tracing.BatchTrace("t", "step", items, lambda r: r) as batch:
        assert batch.headers_for(items[0]) == ()


def test_inject_then_extract_continues_the_trace(spans: InMemorySpanExporter) -> None:
    with tracing.producer_span("chat.raw.v1", key=b"k") as span:
        assert span is not None
        headers = tracing.with_context((("content-type", b"application/json"),))
    names = [k for k, _ in headers]
    assert names == ["content-type", "traceparent"]
    context = get_current_span(tracing.extract(headers)).get_span_context()
    assert context.is_remote
    assert (context.trace_id, context.span_id) == (
        span.get_span_context().trace_id,
        span.get_span_context().span_id,
    )
    [sent] = spans.get_finished_spans()
    assert sent.kind is SpanKind.PRODUCER
    assert sent.attributes is not None
    assert sent.attributes["messaging.system"] == "kafka"
    assert sent.attributes["messaging.destination.name"] == "chat.raw.v1"
    assert sent.attributes["messaging.operation.type"] == "send"


def test_headers_that_carry_a_context_keep_it(spans: InMemorySpanExporter) -> None:
    headers = (("traceparent", PARENT.encode()),)
    with tracing.producer_span("t"):
        assert tracing.with_context(headers) is headers


def test_extract_ignores_missing_and_broken_headers() -> None:
    for headers in ((), (("traceparent", b"garbage"),), (("other", b"x"),)):
        assert not get_current_span(tracing.extract(headers)).get_span_context().is_valid


def test_a_batch_links_its_messages_and_each_message_continues_its_trace(
    spans: InMemorySpanExporter,
) -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-01"
    items = [
        Record("conv", 0, 7, b"a", (("traceparent", PARENT.encode()),)),
        Record("conv", 1, 9, b"b", (("traceparent", other.encode()),)),
        Record("conv", 1, 10, b"c", ()),
    ]
    with tracing.BatchTrace("conv", "sync chat", items, lambda r: r, group="g") as batch:
        with tracing.client_span("POST salesforce composite", {}):
            pass
        out = dict(batch.headers_for(items[0]))
    finished = {s.name: s for s in spans.get_finished_spans() if s.name != "sync chat"}
    chats = [s for s in spans.get_finished_spans() if s.name == "sync chat"]
    process, call = finished["process conv"], finished["POST salesforce composite"]
    assert process.parent is None  # several chats: a batch of its own, linked to each
    assert call.parent is not None
    assert call.parent.span_id == process.context.span_id
    assert process.attributes is not None
    assert process.attributes["messaging.batch.message_count"] == 3
    assert process.attributes["messaging.consumer.group.name"] == "g"
    assert {link.context.trace_id for link in process.links} == {
        int(PARENT.split("-")[1], 16),
        int(other.split("-")[1], 16),
    }
    first = next(c for c in chats if c.attributes and c.attributes["messaging.kafka.offset"] == 7)
    assert first.context.trace_id == int(PARENT.split("-")[1], 16)
    assert first.parent is not None
    assert first.parent.span_id == int(PARENT.split("-")[2], 16)
    assert [link.context.span_id for link in first.links] == [process.context.span_id]
    assert out["traceparent"].decode().split("-")[2] == f"{first.context.span_id:016x}"


def test_a_batch_of_one_message_is_inside_its_trace(spans: InMemorySpanExporter) -> None:
    items = [Record("conv", 0, 7, b"a", (("traceparent", PARENT.encode()),))]
    with tracing.BatchTrace("conv", "sync chat", items, lambda r: r):
        pass
    by_name = {s.name: s for s in spans.get_finished_spans()}
    chat, process = by_name["sync chat"], by_name["process conv"]
    assert process.parent is not None
    assert process.parent.span_id == chat.context.span_id
    assert process.context.trace_id == chat.context.trace_id == int(PARENT.split("-")[1], 16)


def test_a_failed_batch_marks_every_messages_span(spans: InMemorySpanExporter) -> None:
    items = [Record("conv", 0, 7, b"a", ())]
    with (
        pytest.raises(RuntimeError),
        tracing.BatchTrace("conv", "sync chat", items, lambda r: r),
    ):
        raise RuntimeError("boom")
    assert all(not s.status.is_ok for s in spans.get_finished_spans())


def test_server_span_links_the_callers_context_and_starts_a_trace(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.server_span("POST /hook", {}, [("traceparent", PARENT)]) as span:
        assert span is not None
    [server] = spans.get_finished_spans()
    assert server.kind is SpanKind.SERVER
    assert server.parent is None
    assert server.context.trace_id != int(PARENT.split("-")[1], 16)
    assert [link.context.span_id for link in server.links] == [int(PARENT.split("-")[2], 16)]


def test_an_endpoint_turns_tracing_on_once_per_process() -> None:
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SERVICE_NAME": "x"}
    try:
        assert tracing.configure_tracing("svc", environ=environ)
        assert tracing.enabled()
        assert tracing.configure_tracing("other", environ={})  # already on: unchanged
    finally:
        tracing.install(None)
