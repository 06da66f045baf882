"""One chat's trace, from the webhook to its Salesforce write: ingest (webhook and
normaliser) and crm-sync in this process, on the real broker and the emulator, their spans
read from an in-memory exporter."""

from __future__ import annotations

import uuid

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ingest_service.entrypoints.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_PATH
from tests.integration.crm_sync.conftest import Crm
from tests.integration.ingest.support import eventually, ingest_topics, served, settings_for
from tests.unit.ingest.factories import CHAT, chat, encode, signed

SECRET = b"trace-webhook-secret"


def lineage(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    """The span and its ancestors, nearest first, as far as they were exported."""
    chain = [span]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_one_chats_trace_runs_from_the_webhook_to_its_salesforce_write(
    crm: Crm, spans: InMemorySpanExporter
) -> None:
    tenant, _ = crm.tenant()
    chat_id = f"c-{uuid.uuid4().hex[:8]}"
    body = encode(
        chat(
            site_id=tenant,
            event_id=f"evt-{chat_id}",
            chat={**CHAT["chat"], "id": chat_id, "attachments": []},
        )
    )
    async with ingest_topics(crm.bootstrap) as topics:
        settings = settings_for(
            crm.bootstrap,
            topics,
            conversations_topic=crm.topics.conversations,
            webhook_secrets={tenant: SECRET.decode()},
        )
        async with served(settings) as url, httpx.AsyncClient() as client:
            timestamp, signature = signed(body, SECRET)
            answer = await client.post(
                url + WEBHOOK_PATH,
                content=body,
                headers={
                    TIMESTAMP_HEADER.decode(): timestamp.decode(),
                    SIGNATURE_HEADER.decode(): signature.decode(),
                },
            )
            assert answer.status_code == 202
            [result] = await crm.results.wait(tenant, [chat_id])
    assert result.status == "ok"

    def writes() -> list[ReadableSpan]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.kind is SpanKind.CLIENT
            and s.attributes is not None
            and s.attributes.get("salesforce.operation") in {"describe", "read", "write"}
            and s.attributes.get("salesforce.tenant_id") == tenant
        ]

    await eventually(
        lambda: any(s.name == "sync chat" for s in spans.get_finished_spans()), "the chat's span"
    )
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    [webhook] = [s for s in finished if s.kind is SpanKind.SERVER and s.name.endswith(WEBHOOK_PATH)]
    trace_id = webhook.context.trace_id
    assert writes(), "no Salesforce call span for the tenant"
    # Every call is the chat's: the read (with the org's describe) and the write. (While
    # the lane waited, only the tenant's token was fetched, in a trace of its own.)
    assert [w.attributes["salesforce.operation"] for w in writes() if w.attributes] == [
        "read",
        "write",
    ]
    for write in writes():
        chain = lineage(write, by_id)
        assert chain[-1] is webhook, [s.name for s in chain]
        assert {s.context.trace_id for s in chain} == {trace_id}
        names = [s.name for s in reversed(chain)]
        assert names[:4] == [
            webhook.name,
            f"send {topics.raw}",
            "normalise",
            "sync chat",
        ], names
        assert f"process {crm.topics.conversations}" in names
        assert write.attributes is not None
        assert write.attributes["salesforce.api_calls"] == 1
        assert write.attributes["http.response.status_code"] == 200
        assert "?" not in str(write.attributes["url.full"])
    [chat_span] = [s for s in finished if s.name == "sync chat" and s.context.trace_id == trace_id]
    assert chat_span.attributes is not None
    assert chat_span.attributes["messaging.destination.name"] == crm.topics.conversations
    assert chat_span.attributes["chat.id"] == chat_id
    assert chat_span.links, "the chat's span links to its batch's span"
    [salesforce_write] = [
        s for s in finished if s.name == "salesforce write" and s.context.trace_id == trace_id
    ]
    assert salesforce_write.attributes is not None
    assert salesforce_write.attributes["salesforce.api_calls"] == 1  # one Composite call
