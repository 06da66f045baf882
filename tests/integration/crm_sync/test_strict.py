"""crm-sync against the strict emulator: what a real org refuses, and how crm-sync copes."""

from __future__ import annotations

from chat_contracts.settings import TenantSettings, UpdatePolicy
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import chat
from tests.integration.crm_sync.test_sync import query


async def test_twelve_mixed_lead_and_contact_updates_fit_ten_chunks(crm: Crm) -> None:
    # Sales mode follows converted Leads to their Contacts: a batch's updates mix Leads and
    # Contacts in email order, and Salesforce takes at most 10 type chunks per request.
    emails = [f"v{i}@mixed.example" for i in range(12)]
    tenant, org = crm.tenant(
        records={
            "Lead": [
                {"LastName": f"V{i}", "Email": e, "Company": "Co"} for i, e in enumerate(emails)
            ]
        }
    )
    await crm.configure(
        TenantSettings(tenant_id=tenant, update_policy=UpdatePolicy.FILL_EMPTY_ONLY)
    )
    for email in emails[1::2]:
        [lead] = query(crm, tenant, "SELECT Id FROM Lead WHERE Email = {}", email)
        crm.emulator.call("POST", f"/__admin/orgs/{org.org_id}/leads/{lead['Id']}/convert")
    chats = [
        chat(tenant, visitor={"email": e, "phone_e164": f"+1500555{i:04d}"})
        for i, e in enumerate(emails)
    ]
    await crm.producer.conversations(crm.topics.conversations, chats)
    done = await crm.results.wait(tenant, [c.chat_id for c in chats], timeout=20)
    assert all(len(crm.results.by_chat[(tenant, r.chat_id)]) == 1 for r in done)  # not parked
    assert {r.person.outcome for r in done if r.person} == {"updated"}
    objects = sorted(r.person.object for r in done if r.person)
    assert objects == ["Contact"] * 6 + ["Lead"] * 6
