"""Person Accounts (B2C orgs, detected from describe): a Support-mode visitor is a person
account; the chat's Case goes on the account and its person contact."""

from __future__ import annotations

from chat_contracts.settings import TenantSettings
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import chat
from tests.integration.crm_sync.test_sync import query


async def test_a_person_account_org_works_end_to_end(crm: Crm) -> None:
    tenant, _ = crm.tenant(person_accounts=True)
    await crm.configure(TenantSettings(tenant_id=tenant, mode="support"))
    first = chat(
        tenant,
        visitor={
            "first_name": "Marge",
            "last_name": "Simpson",
            "email": "marge@springfield.example",
        },
    )
    await crm.producer.conversations(crm.topics.conversations, [first])
    [created] = await crm.results.wait(tenant, [first.chat_id], timeout=20)
    [account] = query(
        crm,
        tenant,
        "SELECT Id, PersonContactId, PersonEmail FROM Account WHERE IsPersonAccount = true",
    )
    assert account["PersonEmail"] == "marge@springfield.example"
    assert created.person is not None
    assert created.person.record_id == account["PersonContactId"]
    # Her next chat finds her: no second account, both Cases on her account and contact.
    later = chat(tenant, visitor={"email": "marge@springfield.example"})
    await crm.producer.conversations(crm.topics.conversations, [later])
    [matched] = await crm.results.wait(tenant, [later.chat_id], timeout=20)
    assert matched.person is not None
    assert (matched.person.record_id, matched.person.outcome) == (
        account["PersonContactId"],
        "matched",
    )
    assert len(query(crm, tenant, "SELECT Id FROM Account")) == 1
    assert query(crm, tenant, "SELECT Id FROM Contact WHERE IsPersonAccount = false") == []
    cases = query(crm, tenant, "SELECT AccountId, ContactId FROM Case")
    assert [(c["AccountId"], c["ContactId"]) for c in cases] == [
        (account["Id"], account["PersonContactId"])
    ] * 2
