"""What one visitor types must not stop any tenant: hostile values on the real broker."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest

from chat_contracts.dlq import DeadLetter, DeadLetterReason
from chat_contracts.keys import key_for_conversation
from chat_contracts.settings import FieldMappingRule, TenantSettings
from chat_contracts.sync import RetryReason, SyncError, SyncRetry
from crm_sync.domain import chat_records
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import CHAT_ID_FIELDS, chat, end_offset, read_topic
from tests.integration.crm_sync.test_sync import query

NOT_NUMBERS = ("nan", "NaN", "inf", "-Infinity", "1e400", "-1e999")


async def test_a_non_finite_number_in_a_mapped_number_field_stalls_no_tenant(crm: Crm) -> None:
    hostile, _ = crm.tenant(
        custom_fields=[
            *CHAT_ID_FIELDS,
            {"object": "Lead", "name": "Seats__c", "type": "int"},
            {"object": "Lead", "name": "Budget__c", "type": "double"},
        ]
    )
    healthy, _ = crm.tenant()
    rules = (
        FieldMappingRule(object="Lead", source="custom_fields.Seats", target="Seats__c"),
        FieldMappingRule(object="Lead", source="custom_fields.Budget", target="Budget__c"),
    )
    await crm.configure(TenantSettings(tenant_id=hostile, field_mapping=rules))
    hostile_chats = [
        chat(hostile, custom_fields={"Seats": value, "Budget": value}) for value in NOT_NUMBERS
    ]
    fine = chat(hostile, custom_fields={"Seats": "12", "Budget": "1,500.50"})
    normal = chat(healthy)
    await crm.producer.conversations(crm.topics.conversations, [*hostile_chats, fine, normal])
    # The other tenant's chat lands, and so do the hostile tenant's: without the value
    # that is not a number, which no Salesforce number field could hold.
    await crm.results.wait(healthy, [normal.chat_id], timeout=20)
    await crm.results.wait(hostile, [c.chat_id for c in [*hostile_chats, fine]], timeout=20)
    leads = query(crm, hostile, "SELECT Email, Seats__c, Budget__c FROM Lead")
    values = {lead["Email"]: (lead["Seats__c"], lead["Budget__c"]) for lead in leads}
    assert values.pop(fine.visitor.email) == (12, 1500.5)
    assert set(values.values()) == {(None, None)}
    assert len(values) == len(NOT_NUMBERS)


async def test_a_key_that_is_not_utf8_stalls_no_tenant(crm: Crm) -> None:
    odd, _ = crm.tenant()
    healthy, _ = crm.tenant()
    stray = chat(odd)
    normal = chat(healthy)
    # Any producer may key a record with any bytes; the key decides only the partition.
    await crm.producer.raw(
        crm.topics.conversations, b"\xff\xfe|\x80", stray.model_dump_json().encode()
    )
    await crm.producer.conversations(crm.topics.conversations, [normal])
    await crm.results.wait(healthy, [normal.chat_id], timeout=20)
    await crm.results.wait(odd, [stray.chat_id], timeout=20)  # its value says whose it is


async def test_a_bug_for_one_tenants_chat_stalls_no_other_and_ends_in_the_dlq(
    crm: Crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    cursed, _ = crm.tenant()
    healthy, _ = crm.tenant()
    person_record = chat_records.person_record  # as crm_sync.domain.plan imported it

    def buggy(work: Any, *args: Any, **kwargs: Any) -> Any:
        # Stands for any bug a visitor's values may find in the code one day.
        if work.conversation.tenant_id == cursed:
            raise RuntimeError("a bug no test found yet")
        return person_record(work, *args, **kwargs)

    monkeypatch.setattr("crm_sync.domain.plan.person_record", buggy)
    doomed = chat(cursed)
    normal = chat(healthy)
    await crm.producer.conversations(crm.topics.conversations, [doomed])
    await crm.producer.conversations(crm.topics.conversations, [normal])
    await crm.results.wait(healthy, [normal.chat_id], timeout=20)
    # Tried again (it may be a passing fault), then dead-lettered with what is needed to
    # replay it: never a poll that rewinds for ever.
    [failed] = await crm.results.wait(cursed, [doomed.chat_id], status="failed", timeout=60)
    assert failed.error is not None
    letters = [
        DeadLetter.model_validate_json(v) for v in await read_topic(crm.bootstrap, crm.topics.dlq)
    ]
    [letter] = [d for d in letters if d.tenant_id == cursed]
    assert letter.reason is DeadLetterReason.INTERNAL_ERROR
    assert letter.original_value is not None
    assert doomed.chat_id.encode() in letter.original_value


async def test_attachments_are_bounded_per_chat_and_fetched_a_few_at_a_time(crm: Crm) -> None:
    tenant, _ = crm.tenant()
    run = uuid.uuid4().hex[:8]
    paths = [f"/{run}/file-{i}.txt" for i in range(14)]
    crm.files.files.update({p: f"attachment {p}".encode() for p in paths})
    attachments = [{"name": p.rsplit("/", 1)[1], "url": f"{crm.files.url}{p}"} for p in paths]
    crm.files.peak = 0
    conv = chat(tenant, attachments=attachments)
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], timeout=30)
    fetched = [p for p in crm.files.served if p.startswith(f"/{run}/")]
    assert sorted(fetched) == sorted(paths[:10])  # the first ten, each once
    assert result.attachments_uploaded == 10
    assert crm.files.peak <= 4


async def _land(crm: Crm, tenant: str, count: int, *, beside: list[bytes] | None = None) -> float:
    """Seconds until `count` fresh chats of `tenant` are all in Salesforce, produced after
    the records `beside` (another tenant's), on the same partition."""
    chats = [chat(tenant) for _ in range(count)]
    started = time.monotonic()
    for raw in beside or []:
        await crm.producer.raw(crm.topics.conversations, b"hostile-records", raw)
    await crm.producer.conversations(crm.topics.conversations, chats)
    await crm.results.wait(tenant, [c.chat_id for c in chats], timeout=60)
    return time.monotonic() - started


async def test_a_tenant_sending_only_hostile_chats_does_not_slow_another(crm: Crm) -> None:
    hostile, _ = crm.tenant(
        custom_fields=[*CHAT_ID_FIELDS, {"object": "Lead", "name": "Seats__c", "type": "int"}]
    )
    healthy, _ = crm.tenant()
    rules = (FieldMappingRule(object="Lead", source="custom_fields.Seats", target="Seats__c"),)
    await crm.configure(TenantSettings(tenant_id=hostile, field_mapping=rules))
    alone = await _land(crm, healthy, 5)
    nasty = [
        "nan",
        "1e999999",
        "' OR Id != null --",
        "%_\\\\'\"",
        "@{x}",
        "{!Visitor.Email}",
        "<script>alert(1)</script>",
        "\u0000\u202e\ufeff",
        "x" * 200_000,
    ]
    hostile_records = [
        chat(
            hostile,
            visitor={"last_name": value[:80], "company": value[:80]},
            custom_fields={"Seats": value},
            notes=value,
        )
        .model_dump_json()
        .encode()
        for value in nasty
    ]
    # Not conversations at all (dead-lettered); unlike other tests' garbage, so a test that
    # looks for its own dead letter does not find these.
    hostile_records += [
        b"{no json here",
        b"\xff\xfe",
        b'{"tenant_id": "' + hostile.encode() + b'"}',
    ]
    beside = await _land(crm, healthy, 5, beside=hostile_records)
    # A generous bound: the same work, plus the hostile chats' own (few) Salesforce calls.
    assert beside < 3 * alone + 5, (alone, beside)


async def test_two_tenants_on_one_org_keep_each_others_chats_with_the_same_id(
    crm: Crm,
) -> None:
    # Two chat accounts (two tenants) may write to one Salesforce org, and their chat ids
    # come from different systems: the same id in both is two chats, not one.
    first, org = crm.tenant()
    second = f"t{uuid.uuid4().hex[:10]}"
    crm.responder.add(second, org)
    crm.tenants[second] = org
    shared = f"c-shared-{uuid.uuid4().hex[:8]}"
    ours, theirs = chat(first, chat_id=shared), chat(second, chat_id=shared)
    await crm.producer.conversations(crm.topics.conversations, [ours])
    await crm.results.wait(first, [shared], timeout=20)
    await crm.producer.conversations(crm.topics.conversations, [theirs])
    [result] = await crm.results.wait(second, [shared], timeout=20)
    assert result.deduped is False
    tasks = query(crm, first, "SELECT Id, WhoId, Chat_Id__c FROM Task")
    mine = [t for t in tasks if shared in str(t["Chat_Id__c"])]
    assert len(mine) == 2
    assert len({t["Chat_Id__c"] for t in mine}) == 2  # each tenant's key is its own


async def test_a_parked_chat_waits_without_being_written_again_and_again(crm: Crm) -> None:
    # A tenant disconnected for days parks its chats for days: each must cost one record on
    # the retry topic, not one per wait of the retry consumer (2 s in these tests).
    tenant, _ = crm.tenant()
    conv = chat(tenant)
    now = datetime.now(UTC)
    retry = SyncRetry(
        tenant_id=tenant,
        conversation=conv,
        attempt=1,
        not_before=now + timedelta(seconds=7),
        reason=RetryReason.REVOKED,
        last_error=SyncError(code="revoked"),
        first_failed_at=now,
    )
    await crm.producer.raw(
        crm.topics.retry, key_for_conversation(conv), retry.model_dump_json().encode()
    )

    async def copies() -> int:  # the topic is shared with this package's other tests
        written = await end_offset(crm.bootstrap, crm.topics.retry)
        values = await read_topic(crm.bootstrap, crm.topics.retry, at_least=written)
        return sum(conv.chat_id.encode() in v for v in values)

    await asyncio.sleep(5.5)
    assert await copies() == 1
    [done] = await crm.results.wait(tenant, [conv.chat_id], timeout=20)
    assert done.status == "ok"
    assert await copies() == 1


async def test_a_record_too_large_to_copy_into_its_dead_letter_stalls_no_one(crm: Crm) -> None:
    # The conversations topic takes records up to 4 MiB; a dead letter carries the original
    # base64, a third larger. Refused by Kafka, it would rewind the poll for ever.
    tenant, _ = crm.tenant()
    mark = uuid.uuid4().hex
    huge = json.dumps({"tenant_id": tenant, "mark": mark, "pad": "x" * 3_500_000}).encode()
    behind = chat(tenant)
    await crm.producer.raw(crm.topics.conversations, f"{tenant}|x".encode(), huge)
    await crm.producer.conversations(crm.topics.conversations, [behind])
    await crm.results.wait(tenant, [behind.chat_id], timeout=30)
    written = await end_offset(crm.bootstrap, crm.topics.dlq)
    letters = [
        DeadLetter.model_validate_json(v)
        for v in await read_topic(crm.bootstrap, crm.topics.dlq, at_least=written)
    ]
    [letter] = [d for d in letters if d.tenant_id == tenant]
    assert letter.original_value is None  # too large to carry; where it is instead:
    assert (letter.source_topic, letter.source_offset) == (crm.topics.conversations, ANY)
    assert "not copied" in letter.message


async def test_a_visitor_typing_a_composite_reference_is_written_verbatim_and_halts_no_one(
    crm: Crm,
) -> None:
    # Salesforce resolves `@{ref.field}` anywhere in a Composite subrequest's body: a
    # visitor's `@{x}` would halt the whole call, and every chat of the batch with it.
    tenant, _ = crm.tenant()
    typed = "my code is @{x} and @{p[0].id}"
    odd = chat(tenant, visitor={"last_name": "@{x}"}, notes=typed, subject=typed)
    normal = [chat(tenant) for _ in range(3)]
    await crm.producer.conversations(crm.topics.conversations, [odd, *normal])
    done = await crm.results.wait(tenant, [c.chat_id for c in [odd, *normal]], timeout=20)
    assert {r.status for r in done} == {"ok"}
    # Written at the first try: none was parked on the way.
    assert all(len(crm.results.by_chat[(tenant, r.chat_id)]) == 1 for r in done)
    assert odd.visitor.email is not None
    [lead] = query(crm, tenant, "SELECT Id, LastName FROM Lead WHERE Email = {}", odd.visitor.email)
    assert lead["LastName"] == "@{x}"
    [task] = query(crm, tenant, "SELECT Subject FROM Task WHERE WhoId = {}", lead["Id"])
    assert typed in task["Subject"]
