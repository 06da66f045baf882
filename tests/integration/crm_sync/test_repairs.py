"""The console's repairs against the real broker and the emulator: a refused chat replayed
from the DLQ once its cause is gone, a resync by source position, a backfill of a window;
each replay of a chat already written creates nothing (deduped), each repair is audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import TypeAdapter

from chat_contracts.audit import AuditEvent
from chat_contracts.base import utc_now
from chat_contracts.crm import (
    BackfillCommand,
    CommandAcceptedReply,
    CrmCommandReply,
    ReplayDeadLettersCommand,
    ResyncChatCommand,
)
from chat_contracts.dlq import DeadLetter
from chat_contracts.keys import tenant_key
from chat_contracts.settings import FieldMappingRule, TenantSettings
from chat_contracts.sync import SourcePosition
from chat_runtime.request_reply import RequestReplyClient
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import CHAT_ID_FIELDS, chat

REPLY: TypeAdapter[Any] = TypeAdapter(CrmCommandReply)


async def ask(crm: Crm, command: Any) -> CommandAcceptedReply:
    async with RequestReplyClient(crm.bootstrap, name="console-test") as client:
        reply = await client.request(
            crm.topics.commands, command, key=tenant_key(command.tenant_id), timeout=60
        )
    parsed = reply.parse(REPLY)
    assert isinstance(parsed, CommandAcceptedReply), parsed
    return parsed


async def records(bootstrap: str, topic: str) -> list[tuple[int, bytes]]:
    """(offset, value) of every record of a one-partition topic, read to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    tp = TopicPartition(topic, 0)
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: list[tuple[int, bytes]] = []
        async with asyncio.timeout(20):
            while await consumer.position(tp) < end:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    found += [(r.offset, r.value or b"") for r in batch]
        return found
    finally:
        await consumer.stop()


async def audit_of(crm: Crm, tenant: str) -> list[AuditEvent]:
    events = [
        AuditEvent.model_validate_json(v) for _, v in await records(crm.bootstrap, crm.topics.audit)
    ]
    return [e for e in events if e.tenant_id == tenant]


def tasks(crm: Crm, tenant: str) -> list[str]:
    org = crm.tenants[tenant]
    sf = crm.emulator.client(org, token=crm.emulator.new_session(org.org_id))
    return [r["Chat_Id__c"] for r in sf.query_all("SELECT Chat_Id__c FROM Task")["records"]]


async def test_a_refused_chat_is_replayed_from_the_dlq_once_its_cause_is_gone(crm: Crm) -> None:
    region = {"object": "Lead", "name": "Region__c", "type": "string", "required": True}
    tenant, _ = crm.tenant(custom_fields=[*CHAT_ID_FIELDS, region])
    conv = chat(tenant)
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [failed] = await crm.results.wait(tenant, [conv.chat_id], status="failed")
    assert failed.error is not None
    assert failed.error.salesforce_error_code == "REQUIRED_FIELD_MISSING"
    [offset] = [
        o
        for o, v in await records(crm.bootstrap, crm.topics.dlq)
        if DeadLetter.model_validate_json(v).tenant_id == tenant
    ]
    letter = SourcePosition(topic=crm.topics.dlq, partition=0, offset=offset)

    # The admin fixes the mapping; the letter is replayed and written.
    rule = FieldMappingRule(object="Lead", value="EMEA", target="Region__c")
    await crm.configure(TenantSettings(tenant_id=tenant, field_mapping=[rule]))
    command = ReplayDeadLettersCommand(tenant_id=tenant, letters=(letter,), requested_by="admin")
    assert (await ask(crm, command)).requeued == 1
    [written] = await crm.results.wait(tenant, [conv.chat_id], count=2)
    assert (written.deduped, written.source) == (False, failed.source)

    # Replayed again: nothing new.
    assert (await ask(crm, command)).requeued == 1
    [again] = await crm.results.wait(tenant, [conv.chat_id], count=3)
    assert again.deduped
    assert tasks(crm, tenant) == [f"chat:{tenant}:{conv.chat_id}"]
    events = await audit_of(crm, tenant)
    assert [(e.action, e.actor, e.outcome) for e in events] == [("crm.replay", "admin", "ok")] * 2


async def test_a_resync_reads_the_chat_back_and_writes_nothing_twice(crm: Crm) -> None:
    tenant, _ = crm.tenant()
    conv = chat(tenant, ended_at=utc_now())
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [first] = await crm.results.wait(tenant, [conv.chat_id])
    assert first.source is not None
    assert first.source.topic == crm.topics.conversations
    assert (first.visitor_email, first.ended_at) == (conv.visitor.email, conv.ended_at)

    by_source = ResyncChatCommand(
        tenant_id=tenant, chat_id=conv.chat_id, source=first.source, requested_by="admin"
    )
    assert (await ask(crm, by_source)).requeued == 1
    [again] = await crm.results.wait(tenant, [conv.chat_id], count=2)
    assert again.deduped
    assert again.source == first.source

    by_end = ResyncChatCommand(
        tenant_id=tenant, chat_id=conv.chat_id, ended_at=conv.ended_at, requested_by="tenant-link"
    )
    assert (await ask(crm, by_end)).requeued == 1
    [third] = await crm.results.wait(tenant, [conv.chat_id], count=3)
    assert third.deduped
    assert tasks(crm, tenant) == [f"chat:{tenant}:{conv.chat_id}"]
    events = await audit_of(crm, tenant)
    assert [(e.action, e.actor, e.target) for e in events] == [
        ("crm.resync", "admin", conv.chat_id),
        ("crm.resync", "tenant-link", conv.chat_id),
    ]


async def test_a_backfill_puts_back_the_window_only_and_writes_nothing_twice(crm: Crm) -> None:
    tenant, _ = crm.tenant()
    other, _ = crm.tenant()
    now = utc_now()
    inside = [chat(tenant, ended_at=now - timedelta(minutes=i)) for i in range(3)]
    before = chat(tenant, ended_at=now - timedelta(hours=2))
    theirs = chat(other, ended_at=now)
    everything = [*inside, before, theirs]
    await crm.producer.conversations(crm.topics.conversations, everything)
    await crm.results.wait(tenant, [c.chat_id for c in [*inside, before]])
    await crm.results.wait(other, [theirs.chat_id])

    command = BackfillCommand(
        tenant_id=tenant,
        start=now - timedelta(minutes=30),
        end=now + timedelta(minutes=1),
        requested_by="admin",
    )
    assert (await ask(crm, command)).requeued == 3
    again = await crm.results.wait(tenant, [c.chat_id for c in inside], count=2)
    assert all(r.deduped for r in again)
    await asyncio.sleep(2)  # anything wrongly put back would have been written by now
    assert len(crm.results.by_chat[(tenant, before.chat_id)]) == 1
    assert len(crm.results.by_chat[(other, theirs.chat_id)]) == 1
    assert sorted(tasks(crm, tenant)) == sorted(
        f"chat:{tenant}:{c.chat_id}" for c in [*inside, before]
    )

    # A second backfill does not read the first one's replays.
    assert (await ask(crm, command)).requeued == 3
    [event, _] = await audit_of(crm, tenant)
    assert (event.action, event.outcome) == ("crm.backfill", "ok")
