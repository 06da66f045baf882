"""Hostile conversations and crm commands, generated (hypothesis), against `python -m crm_sync`
as its own process, the real broker and the emulator.

Every field of a conversation carries what a visitor can type or a chat platform can send:
numbers no Salesforce field holds, impossible dates, control and bidi characters, markup,
SOQL and template metacharacters, near-1 MiB texts, attachment URLs into the network.
Beside them, records that are not conversations at all. For each: crm-sync writes it, or
ends it as a failed result and a dead letter with the reason; another tenant's chats land
meanwhile; the process never crashes and its peak RSS stays under its Kubernetes limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chat_contracts import Conversation, DeadLetter
from chat_contracts.settings import FieldMappingRule, TenantSettings
from chat_runtime.request_reply import RequestReplyClient
from tests.emulator_fixtures import SalesforceEmulator
from tests.integration.crm_sync.support import (
    CHAT_ID_FIELDS,
    CrmProcess,
    Producer,
    Results,
    TokenResponder,
    Topics,
    chat,
    crm_env,
    end_offset,
    read_topic,
    temp_topics,
)
from tests.k8s_limits import memory_limit_mib, peak_rss_mib

NASTY_TEXT = [
    "nan",
    "-inf",
    "1e400",
    "1e999999999",
    "-0",
    "0x1F",
    "1,5",
    "2024-02-30",
    "9999-12-31T23:59:59Z",
    "0000-00-00",
    "true",
    "\u0000\u0007\u001b[31m",
    "\u202eevil\u202c",
    "\ufeff\u200b",
    "\U0001d4d7\U0001d4ee\U0001d4f5\U0001d4f5\U0001d4f8 \U0001f44b\U0001f3fd",  # script letters
    "@{x}",
    "{!Visitor.Email}",
    "' OR Id != null --",
    "\\' %_ \\\\",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "]]></x>",
]
TEXT = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40))
SHORT = TEXT.map(lambda t: t[:40])
EMAILS = st.sampled_from(
    [
        "o'brien+%_@example.com",
        "a\\b@example.com",
        "x@example.com",
        '"quoted"@example.com',
        "u@xn--bcher-kva.example",
    ]
)
URLS = st.sampled_from(
    [
        "http://127.0.0.1/latest",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "gopher://x",
        "https://files.invalid/a",
        "javascript:alert(1)",
    ]
)
BIG = 900 * 1024  # below the broker's 1 MiB record limit with the rest of the record
CUSTOM = ("Seats", "Budget", "When", "Flag", "Note")
MAPPING = (
    FieldMappingRule(object="Lead", source="custom_fields.Seats", target="Seats__c"),
    FieldMappingRule(object="Lead", source="custom_fields.Budget", target="Budget__c"),
    FieldMappingRule(object="Lead", source="custom_fields.When", target="When__c"),
    FieldMappingRule(object="Lead", source="custom_fields.Flag", target="Flag__c"),
    FieldMappingRule(object="Lead", source="custom_fields.Note", target="Note__c"),
    FieldMappingRule(object="Lead", source="notes", target="Description"),
)
FIELDS = [
    *CHAT_ID_FIELDS,
    {"object": "Lead", "name": "Seats__c", "type": "int"},
    {"object": "Lead", "name": "Budget__c", "type": "double"},
    {"object": "Lead", "name": "When__c", "type": "date"},
    {"object": "Lead", "name": "Flag__c", "type": "boolean"},
    {"object": "Lead", "name": "Note__c", "type": "string", "length": 255},
]


def overrides() -> st.SearchStrategy[dict[str, Any]]:
    visitor = st.fixed_dictionaries(
        {},
        optional={
            "first_name": SHORT,
            "last_name": SHORT,
            "email": EMAILS,
            "phone_raw": SHORT,
            "company": TEXT,
            "visitor_id": TEXT,
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "visitor": visitor,
            "subject": TEXT,
            "notes": TEXT,
            "transcript": st.one_of(TEXT, st.just("é" * (BIG // 2))),
            "request_page": st.one_of(TEXT, URLS),
            "custom_fields": st.fixed_dictionaries({}, optional={name: TEXT for name in CUSTOM}),
            "custom_variables": st.dictionaries(SHORT, TEXT, max_size=3),
            "agent": st.fixed_dictionaries({"email": EMAILS, "name": TEXT}),
            "attachments": st.lists(
                st.fixed_dictionaries({"name": SHORT.filter(bool), "url": URLS}), max_size=3
            ),
        },
    )


def hostile_chats(tenant: str) -> list[Conversation]:
    chats: list[Conversation] = []

    @settings(max_examples=80, derandomize=True, database=None, deadline=None)
    @given(overrides())
    def collect(values: dict[str, Any]) -> None:
        # What the contract refuses never reaches the topic from ingest.
        with contextlib.suppress(ValidationError):
            chats.append(chat(tenant, **values))

    collect()
    return chats


def not_conversations(tenant: str) -> list[tuple[bytes, bytes]]:
    """Records any producer may write to the topic: not JSON, not a conversation."""
    key = f"{tenant}|email:x@example.com".encode()
    good = json.loads(chat(tenant).model_dump_json())
    return [
        (key, b"{not json"),
        (key, b"\xff\xfe\x00"),
        (key, b"[]"),
        (key, json.dumps({**good, "schema_version": 99}).encode()),
        (key, json.dumps({**good, "kind": "call"}).encode()),
        (b"\xff|\x80", json.dumps({**good, "ended_at": "yesterday"}).encode()),
        (key, json.dumps({**good, "chat_id": None, "transcript": "x" * BIG}).encode()),
    ]


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[Topics]:
    async with temp_topics(kafka_bootstrap, partitions=2) as made:
        yield made


async def test_hostile_conversations_end_written_or_dead_lettered_and_stall_no_one(
    kafka_bootstrap: str, sf_emulator: SalesforceEmulator, topics: Topics, tmp_path: Path
) -> None:
    responder = TokenResponder(sf_emulator)
    hostile, healthy = f"t{uuid.uuid4().hex[:10]}", f"t{uuid.uuid4().hex[:10]}"
    for tenant, fields in ((hostile, FIELDS), (healthy, CHAT_ID_FIELDS)):
        responder.add(tenant, sf_emulator.create_org(name=tenant, custom_fields=fields))
    chats = hostile_chats(hostile)
    normal = [chat(healthy) for _ in range(20)]
    garbage = not_conversations(hostile)

    producer, results = Producer(kafka_bootstrap), Results(kafka_bootstrap, topics.results)
    await producer.start()
    await producer.settings(
        topics.settings, TenantSettings(tenant_id=hostile, field_mapping=MAPPING)
    )
    env = crm_env(
        kafka_bootstrap,
        topics,
        sf_emulator.ca_file,
        f"crm-hostile-{uuid.uuid4().hex[:6]}",
        CRM_SYNC_ATTACHMENT_SCHEMES='["http","https"]',
    )
    await results.start()
    async with responder.serving(kafka_bootstrap, topics.tokens):
        process = CrmProcess(env, tmp_path / "crm-sync.log")
        try:
            await process.ready()
            for key, value in garbage:
                await producer.raw(topics.conversations, key, value)
            await producer.conversations(topics.conversations, chats)
            await producer.conversations(topics.conversations, normal)
            await results.wait(healthy, [c.chat_id for c in normal], timeout=120)
            # Every hostile chat ends: written, or failed with a reason (never parked for
            # ever, never silently dropped).
            await results.wait(hostile, [c.chat_id for c in chats], status=None, timeout=180)
            ended = {c.chat_id: results.by_chat[(hostile, c.chat_id)][-1] for c in chats}
            assert process.proc.poll() is None, "crm-sync crashed"
            peak = peak_rss_mib(process.proc.pid)
        finally:
            process.stop()
    await results.stop()
    await producer.stop()

    failed = {chat_id: r for chat_id, r in ended.items() if r.status != "ok"}
    assert all(r.status == "failed" and r.error is not None for r in failed.values()), failed
    written = await end_offset(kafka_bootstrap, topics.dlq)
    letters = [
        DeadLetter.model_validate_json(v)
        for v in await read_topic(kafka_bootstrap, topics.dlq, at_least=written)
    ]
    assert all(letter.reason for letter in letters)
    # The records that are not conversations are dead letters, each with its original bytes.
    originals = {letter.original_value for letter in letters}
    assert {value for _, value in garbage} <= originals
    assert len(letters) == len(garbage) + len(failed)
    assert len(ended) - len(failed) >= len(chats) // 2, "most hostile chats are still chats"
    limit = memory_limit_mib("crm-sync")
    assert peak < limit, f"peak RSS {peak:.0f} MiB over the {limit} MiB limit"


async def test_hostile_crm_commands_each_get_one_clear_answer(
    kafka_bootstrap: str, sf_emulator: SalesforceEmulator, topics: Topics, tmp_path: Path
) -> None:
    responder = TokenResponder(sf_emulator)
    tenant = f"t{uuid.uuid4().hex[:10]}"
    responder.add(tenant, sf_emulator.create_org(name=tenant, custom_fields=FIELDS))
    bodies: list[dict[str, Any]] = []
    conversation = json.loads(chat(tenant).model_dump_json())

    @settings(max_examples=60, derandomize=True, database=None, deadline=None)
    @given(
        st.fixed_dictionaries(
            {"object": st.sampled_from(["Lead", "Contact", "Task", "Case", "Account", "lead"])},
            optional={
                "fields": st.dictionaries(
                    st.sampled_from(["LastName", "Company", "Email", "Seats__c", "Nope__c"]),
                    st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.none()),
                    max_size=4,
                ),
                "chat_id": TEXT,
                "related_record_id": st.sampled_from(["00Q000000000001AAA", "x' OR", ""]),
                "requested_by": EMAILS,
                "conversation": st.just(conversation),
            },
        )
    )
    def collect(body: dict[str, Any]) -> None:
        bodies.append({"tenant_id": tenant, "command": "create_record", **body})

    collect()
    bodies.append({"tenant_id": tenant, "command": "drop_tables"})
    raw = [json.dumps(b).encode() for b in bodies] + [b"{not json", b"\xff\xfe"]
    env = crm_env(kafka_bootstrap, topics, sf_emulator.ca_file, f"crm-cmd-{uuid.uuid4().hex[:6]}")
    async with responder.serving(kafka_bootstrap, topics.tokens):
        process = CrmProcess(env, tmp_path / "crm-sync.log")
        try:
            await process.ready()
            async with RequestReplyClient(kafka_bootstrap, name="crm-hostile") as rr:
                replies = await asyncio.gather(
                    *(
                        rr.request(topics.commands, body, key=tenant.encode(), timeout=60)
                        for body in raw
                    )
                )
            assert process.proc.poll() is None, "crm-sync crashed"
            peak = peak_rss_mib(process.proc.pid)
        finally:
            process.stop()
    for body, reply in zip(raw, replies, strict=True):
        answer = reply.json()
        if answer.get("status") == "error" or "code" in answer:
            assert answer.get("code") not in {"internal", "deadline_exceeded"}, (body, answer)
            assert answer.get("message"), (body, answer)
        else:
            assert answer["status"] in {"created", "existing"}, (body, answer)
    assert peak < memory_limit_mib("crm-sync")
