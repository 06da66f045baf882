"""ingest as it runs: `python -m ingest_service` in its own process, configured by its
environment, against the real broker. Signed webhooks in, conversations out; every
refusal of the webhook contract; duplicates; dead letters; probes, metrics and logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_contracts import Conversation, DeadLetter
from tests.integration.ingest.support import WAIT_S, Topics, eventually, ingest_topics, produce
from tests.k8s_limits import memory_limit_mib, peak_rss_mib
from tests.ports import free_port
from tests.unit.ingest.factories import CHAT, chat, encode, raw_value, signed

SECRET = b"e2e-webhook-secret"
OTHER_TENANT_SECRET = b"other-tenant-secret"


@dataclass
class Ingest:
    url: str
    topics: Topics
    bootstrap: str
    log: IO[bytes]
    pid: int

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@pytest.fixture(scope="module")
async def ingest(kafka_bootstrap: str) -> AsyncIterator[Ingest]:
    async with ingest_topics(kafka_bootstrap) as topics:
        port = free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "INGEST_HTTP_HOST": "127.0.0.1",
            "INGEST_HTTP_PORT": str(port),
            "INGEST_GROUP_ID": f"e2e-ingest-{uuid.uuid4().hex[:8]}",
            "INGEST_WEBHOOK_SECRETS": json.dumps(
                {"10000": SECRET.decode(), "20000": OTHER_TENANT_SECRET.decode()}
            ),
            "INGEST_RAW_TOPIC": topics.raw,
            "INGEST_CONVERSATIONS_TOPIC": topics.conversations,
            "INGEST_DLQ_TOPIC": topics.dlq,
            "INGEST_TENANT_SETTINGS_TOPIC": topics.settings,
            "INGEST_BATCH_TIMEOUT_MS": "20",
            "INGEST_LINGER_MS": "1",
            "INGEST_LOG_LEVEL": "DEBUG",  # the log test wants every line there is
        }
        env.pop("INGEST_DEMO", None)
        with tempfile.TemporaryFile() as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ingest_service", env=env, stdout=log, stderr=log
            )
            try:
                url = f"http://127.0.0.1:{port}"
                await _wait_ready(url, proc)
                yield Ingest(url, topics, kafka_bootstrap, log, proc.pid)
            finally:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 20)


async def _wait_ready(url: str, proc: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=1) as client:

        async def ready() -> bool:
            assert proc.returncode is None, "ingest exited while starting"
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, "ingest ready")


async def post(
    ingest: Ingest,
    body: bytes,
    *,
    secret: bytes = SECRET,
    at: float | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    timestamp, signature = signed(body, secret=secret, at=at)
    sent = {"X-Webhook-Timestamp": timestamp.decode(), "X-Webhook-Signature": signature.decode()}
    async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as client:
        return await client.post(
            "/webhooks/comm100", content=body, headers=headers if headers is not None else sent
        )


async def collect(
    bootstrap: str, topic: str, match: Callable[[Any], bool], expected: int, settle_s: float = 0.5
) -> list[Any]:
    """The records of `topic` that `match`: waits for `expected`, then `settle_s` more."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + WAIT_S
        settled: float | None = None
        while time.monotonic() < (settled or deadline):
            for records in (await consumer.getmany(timeout_ms=100)).values():
                found.extend(r for r in records if match(r))
            if len(found) >= expected and settled is None:
                settled = time.monotonic() + settle_s
    finally:
        await consumer.stop()
    return found


def conversation_of(event_id: str) -> Callable[[Any], bool]:
    return lambda record: Conversation.model_validate_json(record.value).event_id == event_id


def fresh_chat() -> dict[str, Any]:
    return chat(event_id=f"evt-{uuid.uuid4().hex[:10]}")


async def test_a_signed_chat_comes_out_as_one_normalised_conversation(ingest: Ingest) -> None:
    body = fresh_chat()
    response = await post(ingest, encode(body))
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "event_id": body["event_id"]}
    (record,) = await collect(
        ingest.bootstrap, ingest.topics.conversations, conversation_of(body["event_id"]), 1
    )
    conversation = Conversation.model_validate_json(record.value)
    assert record.key == b"10000|email:jo@example.com"
    assert conversation.visitor.email == "jo@example.com"
    assert conversation.visitor.phone_e164 == "+14155550132"  # no settings: region US
    assert (conversation.visitor.first_name, conversation.visitor.last_name) == ("Jo", "Bloggs")
    assert conversation.transcript.startswith("[11:55] Jo: Hi, a quote?")


async def test_the_same_event_delivered_twice_is_one_conversation(ingest: Ingest) -> None:
    body = encode(fresh_chat())
    assert [(await post(ingest, body)).status_code for _ in range(2)] == [202, 202]
    event_id = json.loads(body)["event_id"]
    found = await collect(
        ingest.bootstrap, ingest.topics.conversations, conversation_of(event_id), 1, settle_s=1.5
    )
    assert len(found) == 1


async def test_a_bad_or_missing_signature_is_401(ingest: Ingest) -> None:
    body = encode(fresh_chat())
    wrong = await post(ingest, body, secret=b"guessed")
    other_tenant = await post(ingest, body, secret=OTHER_TENANT_SECRET)
    missing = await post(ingest, body, headers={})
    assert [r.status_code for r in (wrong, other_tenant, missing)] == [401, 401, 401]
    assert wrong.json() == {"error": "unauthorized"}


async def test_a_replayed_request_is_401(ingest: Ingest) -> None:
    body = encode(fresh_chat())
    replay = await post(ingest, body, at=time.time() - 301)
    assert replay.status_code == 401
    assert replay.json() == {
        "error": "unauthorized",
        "detail": "timestamp outside the replay window",
    }


async def test_malformed_json_and_unknown_bodies_are_400_with_a_reason(ingest: Ingest) -> None:
    malformed = await post(ingest, b'{"event": "chat.ended",')
    assert (malformed.status_code, malformed.json()["error"]) == (400, "malformed_json")
    unknown = await post(ingest, encode(chat(event="chat.started")))
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_event")
    assert any("event" in reason for reason in unknown.json()["detail"])


async def test_a_body_over_one_mib_is_413(ingest: Ingest) -> None:
    body = encode({**CHAT, "padding": "x" * (1024 * 1024)})
    response = await post(ingest, body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_invalid_raw_records_go_to_the_dlq_with_their_bytes(ingest: Ingest) -> None:
    marker = uuid.uuid4().hex
    value = f'{{"not": "an event", "marker": "{marker}"}}'.encode()
    await produce(ingest.bootstrap, ingest.topics.raw, (b"10000|event:" + marker.encode(), value))
    (record,) = await collect(
        ingest.bootstrap,
        ingest.topics.dlq,
        lambda r: DeadLetter.model_validate_json(r.value).original_value == value,
        1,
    )
    letter = DeadLetter.model_validate_json(record.value)
    assert (letter.reason, letter.service, letter.tenant_id) == (
        "schema_validation",
        "ingest",
        "10000",
    )


async def test_probes_and_metrics_are_served_and_logs_keep_no_secret(ingest: Ingest) -> None:
    body = encode(fresh_chat())
    assert (await post(ingest, body)).status_code == 202
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = (await client.get("/readyz")).json()
        assert ready["checks"] == {"kafka": True, "producer": True, "tenant_settings": True}
        metrics = (await client.get("/metrics")).text
    assert 'ingest_webhook_requests_total{outcome="accepted",status="202"}' in metrics
    log = ingest.log_text()
    assert log, "the service logged nothing"
    assert SECRET.decode() not in log
    assert OTHER_TENANT_SECRET.decode() not in log
    _, signature = signed(body, secret=SECRET)
    assert signature.decode().removeprefix("sha256=")[:16] not in log


def test_without_secrets_the_service_refuses_to_start_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "ingest_service"],
        env=env,
        capture_output=True,
        timeout=30,
        cwd=Path(__file__).parent,
        check=False,
    )
    assert done.returncode == 2
    assert b"INGEST_WEBHOOK_SECRETS" in done.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        (
            {"INGEST_DEMO": "1", "KAFKA_BOOTSTRAP_SERVERS": "chat-kafka-bootstrap.kafka:9093"},
            "INGEST_DEMO",
        ),
        ({"INGEST_WEBHOOK_SECRETS": '{"10000": "  "}'}, "INGEST_WEBHOOK_SECRETS"),
    ],
)
def test_production_guards_stop_the_process_naming_the_variable(
    variables: dict[str, str], named: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "ingest_service"],
        env={**env, **variables},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert named in result.stderr


HOSTILE = st.sampled_from(
    [
        "' OR Id != null --",
        "%_\\\\'\"",
        "{!Visitor.Email}",
        "@{x}",
        "<script>alert(1)</script>",
        "\u0000\u0007\u202e\ufeff",
        "nan",
        "1e999999999",
        "😀" * 500,
        "x" * 300_000,
        "",
        " ",
    ]
)
ANY_TEXT = st.one_of(HOSTILE, st.text(max_size=40))


def hostile_event(values: dict[str, Any]) -> dict[str, Any]:
    body = fresh_chat()
    chat_part = body["chat"]
    chat_part["visitor"] = {**chat_part["visitor"], **values.get("visitor", {})}
    for field in ("notes", "request_page"):
        if field in values:
            chat_part[field] = values[field]
    if "text" in values:
        chat_part["messages"] = [{**m, "text": values["text"]} for m in chat_part["messages"]]
    if "custom_fields" in values:
        chat_part["custom_fields"] = values["custom_fields"]
    return body


async def test_hostile_webhooks_are_accepted_or_refused_and_none_is_lost(ingest: Ingest) -> None:
    events: list[dict[str, Any]] = []
    visitor = st.fixed_dictionaries(
        {}, optional={k: ANY_TEXT for k in ("name", "email", "phone", "company")}
    )
    values = st.fixed_dictionaries(
        {},
        optional={
            "visitor": visitor,
            "notes": ANY_TEXT,
            "request_page": ANY_TEXT,
            "text": ANY_TEXT,
            "custom_fields": st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3),
        },
    )

    @settings(max_examples=60, derandomize=True, database=None, deadline=None)
    @given(values)
    def collect_events(generated: dict[str, Any]) -> None:
        events.append(hostile_event(generated))

    collect_events()
    statuses: dict[str, int] = {}
    for event in events:
        response = await post(ingest, encode(event))
        assert response.status_code in {202, 400, 413}, (response.status_code, response.text)
        statuses[event["event_id"]] = response.status_code
    accepted = {e for e, status in statuses.items() if status == 202}
    assert accepted, "some hostile chats are still chats"
    # Every accepted event comes out: as a conversation, or as a dead letter with a reason.

    def event_id(record: Any) -> str | None:
        try:
            return Conversation.model_validate_json(record.value).event_id
        except ValueError:
            return None

    def letter_of(record: Any) -> str | None:
        original = DeadLetter.model_validate_json(record.value).original_value or b""
        return next((e for e in accepted if e.encode() in original), None)

    out = await collect(
        ingest.bootstrap,
        ingest.topics.conversations,
        lambda r: event_id(r) in accepted,
        len(accepted),
    )
    landed = {event_id(r) for r in out}
    if landed != accepted:
        letters = await collect(
            ingest.bootstrap, ingest.topics.dlq, lambda r: letter_of(r) is not None, 1
        )
        landed |= {letter_of(r) for r in letters}
    assert landed == accepted
    async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as client:
        assert (await client.get("/readyz")).status_code == 200
    assert peak_rss_mib(ingest.pid) < memory_limit_mib("ingest-webhook")


async def test_hostile_raw_records_become_conversations_or_dead_letters(ingest: Ingest) -> None:
    records: list[tuple[bytes, bytes]] = []
    json_values = st.recursive(
        st.none() | st.booleans() | st.floats() | ANY_TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
        max_leaves=8,
    )
    keys = st.one_of(st.just(b"10000|event:x"), st.binary(max_size=12))
    values = st.one_of(
        st.binary(max_size=64),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({}, optional={"notes": ANY_TEXT, "text": ANY_TEXT}).map(
            lambda v: raw_value(hostile_event(v))
        ),
    )

    @settings(max_examples=80, derandomize=True, database=None, deadline=None)
    @given(keys, values)
    def collect_records(key: bytes, value: bytes) -> None:
        records.append((key, value))

    collect_records()
    records.append((b"10000|event:big", raw_value(hostile_event({"notes": "x" * 600_000}))))
    await produce(ingest.bootstrap, ingest.topics.raw, *records)

    def event_of(value: bytes) -> str | None:
        try:
            return str(json.loads(value)["payload"]["event_id"])
        except (ValueError, KeyError, TypeError):
            return None

    pending = {value for _, value in records}
    conversations = {event_of(v): v for v in pending if event_of(v)}

    def settle(record: Any) -> bool:
        if record.topic == ingest.topics.dlq:
            original = DeadLetter.model_validate_json(record.value).original_value
            pending.discard(original or b"")
        else:
            with contextlib.suppress(ValueError):
                event = Conversation.model_validate_json(record.value).event_id
                pending.discard(conversations.get(event, b""))
        return False

    consumer = AIOKafkaConsumer(
        ingest.topics.conversations,
        ingest.topics.dlq,
        bootstrap_servers=ingest.bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while pending:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        settle(record)
    finally:
        await consumer.stop()
    assert not pending  # each record came out, as a conversation or with a reason
    async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as client:
        assert (await client.get("/readyz")).status_code == 200
    assert peak_rss_mib(ingest.pid) < memory_limit_mib("ingest-normaliser")
