"""crm-sync against the real broker and the Salesforce emulator: both modes, policies,
converted leads, owners, dedupe on redelivery, files, parking and the DLQ."""

from __future__ import annotations

import asyncio
from typing import Any

from simple_salesforce.format import format_soql

from chat_contracts.dlq import DeadLetter, DeadLetterReason
from chat_contracts.settings import FieldMappingRule, TenantSettings, UpdatePolicy
from chat_contracts.sync import SyncRetry
from tests.integration.crm_sync.conftest import AGENT, Crm
from tests.integration.crm_sync.support import CHAT_ID_FIELDS, chat, read_topic


def query(crm: Crm, tenant: str, soql: str, *values: Any) -> list[dict[str, Any]]:
    """Records of a SOQL query with `{}` placeholders, values quoted by simple-salesforce."""
    sf = crm.emulator.client(crm.tenants[tenant])
    return list(sf.query_all(format_soql(soql, *values))["records"])


def agent_id(crm: Crm, tenant: str) -> str:
    return str(next(u["id"] for u in crm.tenants[tenant].users if u["email"] == AGENT))


async def test_salesforce_calls_are_counted_by_what_they_do(crm: Crm) -> None:
    # A new tenant's first chat: the read (its org described in the same Composite call),
    # then the write; told apart in the metric so that a profile says where calls go.
    tenant, _ = crm.tenant()
    conv = chat(tenant)
    await crm.producer.conversations(crm.topics.conversations, [conv])
    await crm.results.wait(tenant, [conv.chat_id])
    counted = {
        operation: await crm.metric(
            "chat_salesforce_calls_total", tenant=tenant, operation=operation, outcome="ok"
        )
        for operation in ("describe", "read", "write")
    }
    assert counted == {"describe": 0, "read": 1, "write": 1}
    assert crm.usage(tenant) == 2


async def test_new_visitor_becomes_a_lead_and_a_task_once(crm: Crm) -> None:
    tenant, _ = crm.tenant()
    conv = chat(tenant, visitor={"company": "Bloggs Ltd", "phone_e164": "+442079460018"})
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id])
    # The org's describe within the read (one Composite call), then the write.
    assert crm.usage(tenant) == 2

    [lead] = query(
        crm,
        tenant,
        "SELECT Id, LastName, Company, Phone, OwnerId FROM Lead WHERE Email = {}",
        conv.visitor.email or "",
    )
    [task] = query(
        crm,
        tenant,
        "SELECT Id, WhoId, Subject, Status, OwnerId, Description FROM Task WHERE Chat_Id__c = {}",
        f"chat:{conv.tenant_id}:{conv.chat_id}",
    )
    assert (lead["Company"], lead["Phone"]) == ("Bloggs Ltd", "+442079460018")
    assert lead["OwnerId"] == task["OwnerId"] == agent_id(crm, tenant)
    assert (task["WhoId"], task["Status"], task["Subject"]) == (
        lead["Id"],
        "Completed",
        f"Chat {conv.chat_id}",
    )
    assert "Agent: Alex Agent <agent@acme.example>" in task["Description"]
    assert result.person is not None
    assert (result.person.record_id, result.person.outcome) == (lead["Id"], "created")
    assert result.owner_source == "agent"

    before = crm.usage(tenant)
    await crm.producer.conversations(crm.topics.conversations, [conv])  # redelivered
    [again] = await crm.results.wait(tenant, [conv.chat_id], count=2)
    # The visitor is known: the Task is written directly, Salesforce refuses it as a
    # duplicate of the chat key, and a read finds the one written before.
    assert crm.usage(tenant) == before + 2
    assert again.deduped
    assert again.activity is not None
    assert again.activity.outcome == "existing"
    assert again.activity.record_id == task["Id"]
    assert len(query(crm, tenant, "SELECT Id FROM Lead")) == 1
    assert len(query(crm, tenant, "SELECT Id FROM Task")) == 1


async def test_a_backlog_is_written_in_few_calls(crm: Crm) -> None:
    tenant, _ = crm.tenant()
    chats = [chat(tenant) for _ in range(300)]
    await crm.producer.conversations(crm.topics.conversations, chats)
    results = await crm.results.wait(tenant, [c.chat_id for c in chats])
    assert crm.usage(tenant) <= 1 + 2 * 4  # describe, then a read and a write per batch
    assert len(query(crm, tenant, "SELECT Id FROM Task")) == 300
    assert max(r.batch_size for r in results) > 50


async def test_existing_leads_converted_leads_and_update_policy(crm: Crm) -> None:
    tenant, org = crm.tenant(
        records={
            "Lead": [
                {"LastName": "Plain", "Email": "plain@x.example", "Company": "Old Co"},
                {"LastName": "Conv", "Email": "conv@x.example", "Company": "Conv Co"},
            ]
        }
    )
    await crm.configure(
        TenantSettings(tenant_id=tenant, update_policy=UpdatePolicy.FILL_EMPTY_ONLY)
    )
    converted = query(crm, tenant, "SELECT Id FROM Lead WHERE Email = 'conv@x.example'")[0]["Id"]
    conversion = crm.emulator.call(
        "POST", f"/__admin/orgs/{org.org_id}/leads/{converted}/convert"
    ).json()
    plain = chat(
        tenant, visitor={"email": "plain@x.example", "first_name": "Pat", "company": "New Co"}
    )
    conv = chat(tenant, visitor={"email": "conv@x.example", "phone_e164": "+15005550006"})
    await crm.producer.conversations(crm.topics.conversations, [plain, conv])
    r_plain, r_conv = await crm.results.wait(tenant, [plain.chat_id, conv.chat_id])

    [lead] = query(
        crm, tenant, "SELECT Id, FirstName, Company FROM Lead WHERE Email = 'plain@x.example'"
    )
    assert (lead["FirstName"], lead["Company"]) == ("Pat", "Old Co")  # filled, not overwritten
    assert r_plain.person is not None
    assert r_plain.person.outcome == "updated"
    assert r_conv.person is not None
    assert (r_conv.person.object, r_conv.person.record_id) == ("Contact", conversion["contactId"])
    assert r_conv.person.converted_from_lead_id == converted
    [contact] = query(
        crm, tenant, "SELECT Phone FROM Contact WHERE Id = {}", conversion["contactId"]
    )
    assert contact["Phone"] == "+15005550006"
    assert len(query(crm, tenant, "SELECT Id FROM Lead")) == 2
    [task] = query(
        crm,
        tenant,
        "SELECT WhoId FROM Task WHERE Chat_Id__c = {}",
        f"chat:{conv.tenant_id}:{conv.chat_id}",
    )
    assert task["WhoId"] == conversion["contactId"]


async def test_support_mode_writes_contacts_and_chat_cases(crm: Crm) -> None:
    tenant, _ = crm.tenant(custom_fields=[])  # no chat-id field: the Subject is the key
    await crm.configure(TenantSettings(tenant_id=tenant, mode="support"))
    conv = chat(tenant, visitor={"company": "Globex"})
    await crm.producer.conversations(crm.topics.conversations, [conv, conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], count=2)
    [contact] = query(crm, tenant, "SELECT Id FROM Contact")
    [case] = query(
        crm, tenant, "SELECT ContactId, Origin, Subject, Description, SuppliedEmail FROM Case"
    )
    assert (case["ContactId"], case["Origin"]) == (contact["Id"], "Chat")
    assert case["Subject"] == f"Chat {conv.chat_id}"
    assert "Company: Globex" in case["Description"]
    assert case["SuppliedEmail"] == conv.visitor.email
    assert result.activity is not None
    assert result.activity.object == "Case"
    assert query(crm, tenant, "SELECT Id FROM Lead") == []


async def test_mapping_attachments_and_a_long_transcript(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        custom_fields=[
            *crm_fields(),
            {"object": "Lead", "name": "Order_Number__c", "type": "string", "length": 20},
        ]
    )
    rules = (
        FieldMappingRule(object="Lead", source="custom_fields.Order", target="Order_Number__c"),
    )
    await crm.configure(TenantSettings(tenant_id=tenant, field_mapping=rules))
    transcript = "\n".join(f"[12:00] Jo: message number {i}" for i in range(2000))
    conv = chat(
        tenant,
        custom_fields={"Order": "A-42"},
        transcript=transcript,
        attachments=[{"name": "invoice.pdf", "url": f"{crm.files.url}/invoice.pdf"}],
    )
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id])
    [lead] = query(crm, tenant, "SELECT Id, Order_Number__c FROM Lead")
    [task] = query(crm, tenant, "SELECT Id, Description FROM Task")
    assert lead["Order_Number__c"] == "A-42"
    assert len(task["Description"]) <= 32_000
    assert result.truncated_fields == ("Task.Description",)
    assert result.attachments_uploaded == 2
    # Salesforce takes files on activities [S13], so they go on the chat's Task.
    files = query(
        crm,
        tenant,
        "SELECT Id, PathOnClient FROM ContentVersion WHERE FirstPublishLocationId = {}",
        task["Id"],
    )
    by_name = {f["PathOnClient"]: f["Id"] for f in files}
    assert set(by_name) == {"invoice.pdf", f"transcript-{conv.chat_id}.txt"}
    sf = crm.emulator.client(crm.tenants[tenant])
    data = sf.session.get(
        f"{sf.base_url}sobjects/ContentVersion/{by_name[f'transcript-{conv.chat_id}.txt']}/VersionData",
        headers=sf.headers,
    )
    assert data.content.decode() == transcript


def crm_fields() -> list[dict[str, Any]]:
    return list(CHAT_ID_FIELDS)


async def test_revoked_tenant_is_parked_beside_a_healthy_one_then_recovers(crm: Crm) -> None:
    revoked, _ = crm.tenant()
    healthy, _ = crm.tenant()
    crm.responder.revoked.add(revoked)
    parked, written = chat(revoked), chat(healthy)
    await crm.producer.conversations(crm.topics.conversations, [parked, written])  # one partition
    await crm.results.wait(healthy, [written.chat_id])
    [waiting] = await crm.results.wait(revoked, [parked.chat_id], status="parked")
    assert waiting.error is not None
    assert waiting.error.code == "revoked"
    retries = [
        SyncRetry.model_validate_json(v) for v in await read_topic(crm.bootstrap, crm.topics.retry)
    ]
    assert parked.chat_id in {r.conversation.chat_id for r in retries}

    crm.responder.revoked.discard(revoked)  # reconnected: the parked chat comes back
    [done] = await crm.results.wait(revoked, [parked.chat_id], timeout=30)
    assert done.activity is not None
    assert len(query(crm, revoked, "SELECT Id FROM Task")) == 1


async def test_a_required_field_salesforce_insists_on_is_dead_lettered(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        custom_fields=[
            *crm_fields(),
            {"object": "Lead", "name": "Region__c", "type": "string", "required": True},
        ]
    )
    conv = chat(tenant)
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], status="failed")
    assert result.error is not None
    assert result.error.salesforce_error_code == "REQUIRED_FIELD_MISSING"
    letters = [
        DeadLetter.model_validate_json(v) for v in await read_topic(crm.bootstrap, crm.topics.dlq)
    ]
    [letter] = [d for d in letters if d.tenant_id == tenant]
    assert letter.reason is DeadLetterReason.REQUIRED_FIELD_MISSING
    assert letter.error_fields == ("Region__c",)
    assert letter.original_value is not None
    assert conv.chat_id.encode() in letter.original_value


async def test_expired_sessions_are_refreshed(crm: Crm) -> None:
    tenant, org = crm.tenant()
    first = chat(tenant)
    await crm.producer.conversations(crm.topics.conversations, [first])
    await crm.results.wait(tenant, [first.chat_id])
    crm.emulator.call("POST", f"/__admin/orgs/{org.org_id}/expire-sessions")
    refreshes = crm.responder.refreshes
    second = chat(tenant)
    await crm.producer.conversations(crm.topics.conversations, [second])
    await crm.results.wait(tenant, [second.chat_id])
    assert crm.responder.refreshes == refreshes + 1


async def test_input_that_is_not_a_conversation_is_dead_lettered(crm: Crm) -> None:
    await crm.producer.raw(crm.topics.conversations, b"tbad|email:x@y.z", b"{not json")
    for _ in range(100):
        letters = [
            DeadLetter.model_validate_json(v)
            for v in await read_topic(crm.bootstrap, crm.topics.dlq)
        ]
        bad = [d for d in letters if d.original_value == b"{not json"]
        if bad:
            break
        await asyncio.sleep(0.1)
    assert bad[0].reason is DeadLetterReason.INVALID_JSON
    assert bad[0].tenant_id == "tbad"
