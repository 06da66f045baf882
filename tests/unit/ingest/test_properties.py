"""Property tests: arbitrary bytes and JSON thrown at the normaliser and the endpoint.

The normaliser must turn every record into exactly one conversation or dead letter (or a
counted duplicate) without raising; the endpoint must answer every request with a status
of its contract, and whatever it accepts must be a raw record the normaliser reads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_contracts import SALESFORCE_LIMITS, Conversation, DeadLetter, RawChatEvent
from chat_contracts.keys import key_for_conversation
from ingest_service.domain.batch import BatchPlanner
from ingest_service.domain.dedupe import DedupeMemory
from ingest_service.domain.webhook import Refused, check_request, raw_record
from ingest_service.entrypoints.webhook import WebhookEndpoint
from ingest_service.handlers.events import AcceptWebhook
from tests.unit.ingest.factories import (
    RAW_TOPIC,
    SECRET,
    TENANT,
    FakePublisher,
    Record,
    metrics,
    raw_value,
    signed,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = 1_714_564_800.0

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
# Text that exercises the clean-up: markup, entities, odd whitespace, any character.
SNIPPETS = [
    "<b>",
    "</p>",
    "<br>",
    "&amp;",
    "&#x41;",
    "&nbsp;",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "<!--",
    "@",
]
messy_text = st.lists(st.characters(codec="utf-8") | st.sampled_from(SNIPPETS), max_size=30).map(
    "".join
)
maybe_text = st.none() | messy_text
zones: st.SearchStrategy[tzinfo | None] = (
    st.none()
    | st.just(UTC)
    | st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-1439, 1439))
)
times = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=cast(Any, zones),  # hypothesis' stub wants SearchStrategy[None]
)
visitors = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe_text,
        "name": maybe_text,
        "company": maybe_text,
        "email": maybe_text | st.emails().map(lambda e: f"  {e.upper()} "),
        "phone": maybe_text | st.from_regex(r"\+?[0-9 ()\-]{4,20}", fullmatch=True),
    },
)
messages = st.fixed_dictionaries(
    {"from": st.sampled_from(["visitor", "agent", "bot"])},
    optional={"name": maybe_text, "text": messy_text, "sent_at": st.none() | times},
)
custom = st.dictionaries(
    st.text(max_size=10),
    json_scalars.filter(lambda v: not isinstance(v, float) or abs(v) < 1e300),
    max_size=3,
)
attachments = st.fixed_dictionaries(
    {"name": messy_text, "url": messy_text},
    optional={"size": st.none() | st.integers(0, 2**40), "content_type": maybe_text},
)
ids = st.text(min_size=1, max_size=20)
chat_events = st.fixed_dictionaries(
    {
        "event": st.just("chat.ended"),
        "event_id": ids,
        "site_id": st.just(TENANT),
        "occurred_at": times,
        "chat": st.fixed_dictionaries(
            {"id": ids},
            optional={
                "started_at": st.none() | times,
                "ended_at": st.none() | times,
                "agent": st.none()
                | st.fixed_dictionaries({}, optional={"email": maybe_text, "name": maybe_text}),
                "visitor": visitors,
                "messages": st.lists(messages, max_size=4),
                "notes": maybe_text,
                "custom_fields": custom,
                "custom_variables": custom,
                "request_page": maybe_text,
                "attachments": st.lists(attachments, max_size=2),
            },
        ),
    }
)
offline_events = st.fixed_dictionaries(
    {
        "event": st.just("offline_message.submitted"),
        "event_id": ids,
        "site_id": st.just(TENANT),
        "occurred_at": times,
        "message": st.fixed_dictionaries(
            {"id": ids},
            optional={
                "visitor": visitors,
                "subject": maybe_text,
                "content": messy_text,
                "submitted_at": st.none() | times,
                "custom_fields": custom,
            },
        ),
    }
)
events = chat_events | offline_events


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


def plan_one(value: bytes | None) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
    planner = BatchPlanner(DedupeMemory(3_600_000, 100), lambda tenant: "US")
    planner.add(Record(value, key=b"10000|event:x"))
    plan = planner.plan
    # Exactly one outcome per record: a conversation or a dead letter (no duplicates here).
    assert len(plan.conversations) + len(plan.dead_letters) == 1
    for _, letter in plan.dead_letters:
        DeadLetter.model_validate_json(letter)
    return plan.conversations, plan.dead_letters


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_become_a_dead_letter(value: bytes) -> None:
    plan_one(value)


@SETTINGS
@given(json_values)
def test_any_json_as_a_record_or_as_its_payload_never_crashes(document: Any) -> None:
    plan_one(dumps(document))
    plan_one(raw_value(dumps(document)))


@SETTINGS
@given(events)
def test_any_event_of_the_contract_becomes_a_conversation_consumers_accept(event: Any) -> None:
    conversations, letters = plan_one(raw_value(dumps(event)))
    if letters:  # only what the contract itself refuses (e.g. a bad site id) may land here
        reason = DeadLetter.model_validate_json(letters[0][1]).reason
        assert reason == "schema_validation", letters
        return
    ((key, value),) = conversations
    conversation = Conversation.model_validate_json(value)
    assert key == key_for_conversation(conversation)
    visitor = conversation.visitor
    for field, limit in SALESFORCE_LIMITS.items():
        text = (
            getattr(visitor, field.removeprefix("visitor."), None)
            if field.startswith("visitor.")
            else conversation.subject
        )
        assert text is None or len(text) <= limit
    assert all(t.original_length > t.limit for t in conversation.truncations)


@SETTINGS
@given(
    st.binary(max_size=200), st.none() | st.binary(max_size=20), st.none() | st.binary(max_size=80)
)
def test_any_unsigned_request_is_refused_with_400_or_401(
    body: bytes, timestamp: bytes | None, signature: bytes | None
) -> None:
    verdict = check_request(body, timestamp, signature, {TENANT: (SECRET,)}, NOW, 300)
    assert isinstance(verdict, Refused)
    assert verdict.status in (400, 401)


@SETTINGS
@given(json_values | events | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_whatever_a_signed_request_holds_an_accepted_one_is_a_record_the_normaliser_reads(
    document: Any,
) -> None:
    if isinstance(document, dict):
        document["site_id"] = TENANT  # a body of the signing tenant: the signature verifies
    body = document.encode() if isinstance(document, str) else dumps(document)
    verdict = check_request(body, *signed(body, at=NOW), {TENANT: (SECRET,)}, NOW, 300)
    if isinstance(verdict, Refused):
        assert verdict.status == 400 or not isinstance(document, dict)
        assert verdict.status in (400, 401)
        return
    key, value = raw_record(verdict, datetime.now().astimezone())
    raw = RawChatEvent.model_validate_json(value)  # what it stored, the normaliser reads
    assert key == f"{TENANT}|event:{raw.event_id}".encode()
    conversations, _ = plan_one(value)
    assert len(conversations) == 1


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_the_endpoint_answers_every_body_with_a_status_of_its_contract(
    body: bytes, sign_it: bool
) -> None:
    publisher = FakePublisher()
    accept = AcceptWebhook(
        secrets={TENANT: (SECRET,)},
        publisher=publisher,
        raw_topic=RAW_TOPIC,
        replay_window_s=300,
        publish_timeout_s=1,
    )
    endpoint = WebhookEndpoint(accept, max_body_bytes=200, metrics=metrics())
    timestamp, signature = signed(body) if sign_it else (b"", b"")
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "headers": [(b"x-webhook-timestamp", timestamp), (b"x-webhook-signature", signature)],
    }
    asyncio.run(endpoint(scope, receive, send))
    status = sent[0]["status"]
    assert status in (202, 400, 401, 413)
    assert (status == 202) == bool(publisher.records)
    json.loads(sent[1]["body"])
