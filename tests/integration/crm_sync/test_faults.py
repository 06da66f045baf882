"""Faults: an unreliable org (503s, lock contention, lost answers), sessions expiring in
the middle of a run, an API budget nearly spent. Every chat still ends written exactly
once, every visitor as exactly one Lead."""

from __future__ import annotations

import asyncio
from collections import Counter

from chat_contracts.settings import TenantSettings
from chat_contracts.sync import SyncResult
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import chat


def exactly_once(crm: Crm, tenant: str, chats: int, visitors: int) -> None:
    org = crm.tenants[tenant]
    sf = crm.emulator.client(org, token=crm.emulator.new_session(org.org_id))
    tasks = Counter(r["Chat_Id__c"] for r in sf.query_all("SELECT Chat_Id__c FROM Task")["records"])
    leads = Counter(r["Email"] for r in sf.query_all("SELECT Email FROM Lead")["records"])
    assert len(tasks) == chats
    assert set(tasks.values()) == {1}
    assert len(leads) == visitors
    assert set(leads.values()) == {1}


async def test_unreliable_org_still_gets_every_chat_once(crm: Crm) -> None:
    existing = [
        {"LastName": f"Known {i}", "Email": f"known{i}@x.example", "Company": "K"}
        for i in range(50)
    ]
    tenant, org = crm.tenant(records={"Lead": existing})
    crm.emulator.set_faults(org.org_id, error_503_rate=0.1, lock_row_rate=0.02, seed=7)
    emails = [f"known{i}@x.example" for i in range(50)] + [f"new{i}@x.example" for i in range(150)]
    first = [chat(tenant, visitor={"email": e}) for e in emails]
    second = [chat(tenant, visitor={"email": e}) for e in emails]
    await crm.producer.conversations(crm.topics.conversations, first)
    await asyncio.sleep(0.3)
    await crm.producer.conversations(crm.topics.conversations, second)
    await crm.results.wait(tenant, [c.chat_id for c in first + second], timeout=90)
    crm.emulator.set_faults(org.org_id)
    exactly_once(crm, tenant, chats=400, visitors=200)


async def test_lost_answers_are_never_written_twice(crm: Crm) -> None:
    tenant, org = crm.tenant()
    # Answers held back past crm-sync's 5 s timeout, after the work was committed.
    crm.emulator.set_faults(org.org_id, hang_rate=0.25, hang_seconds=6, seed=3)
    chats = [chat(tenant) for _ in range(40)]
    for start in range(0, 40, 10):
        await crm.producer.conversations(crm.topics.conversations, chats[start : start + 10])
        await asyncio.sleep(0.2)
    await crm.results.wait(tenant, [c.chat_id for c in chats], timeout=120)
    crm.emulator.set_faults(org.org_id)
    exactly_once(crm, tenant, chats=40, visitors=40)


async def test_sessions_expiring_mid_run(crm: Crm) -> None:
    tenant, org = crm.tenant()
    chats = [chat(tenant) for _ in range(200)]
    refreshes = crm.responder.refreshes
    for start in range(0, 200, 50):
        await crm.producer.conversations(crm.topics.conversations, chats[start : start + 50])
        await asyncio.sleep(0.15)
        crm.emulator.call("POST", f"/__admin/orgs/{org.org_id}/expire-sessions")
    await crm.results.wait(tenant, [c.chat_id for c in chats], timeout=60)
    assert crm.responder.refreshes > refreshes
    exactly_once(crm, tenant, chats=200, visitors=200)


async def test_a_nearly_spent_budget_slows_the_tenant_down(crm: Crm) -> None:
    tenant, _ = crm.tenant(api_limit=40)
    await crm.configure(TenantSettings(tenant_id=tenant, api_budget_share=0.25))
    chats = [chat(tenant) for _ in range(12)]
    for one in chats:  # one chat at a time: each batch would cost a read and a write
        await crm.producer.conversations(crm.topics.conversations, [one])
        await asyncio.sleep(0.25)
    results = await crm.results.wait(tenant, [c.chat_id for c in chats], timeout=60)
    seen: list[SyncResult] = [r for c in chats for r in crm.results.by_chat[(tenant, c.chat_id)]]
    assert any(r.status == "parked" and r.error and r.error.code == "api_budget" for r in seen)
    assert {r.status for r in results} == {"ok"}
    # Slowed: far fewer calls than two per chat, and the org keeps most of its budget.
    assert crm.usage(tenant) < 1 + 2 * len(chats)
    assert crm.usage(tenant) <= 40 * 0.5
