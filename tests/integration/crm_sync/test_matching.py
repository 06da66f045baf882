"""Matching as a Salesforce admin expects (issue 16): in Sales mode an existing customer (a
Contact) gets the chat, no Lead is made for them."""

from __future__ import annotations

from chat_contracts.settings import TenantSettings
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import chat
from tests.integration.crm_sync.test_sync import query


async def test_sales_mode_logs_an_existing_contacts_chat_on_the_contact(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        records={
            "Contact": [{"FirstName": "Cy", "LastName": "Customer", "Email": "cy@acme.example"}]
        }
    )
    [contact] = query(crm, tenant, "SELECT Id FROM Contact")
    conv = chat(tenant, visitor={"email": "CY@acme.example", "phone_e164": "+15005550123"})
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], timeout=20)
    assert result.person is not None
    assert (result.person.object, result.person.record_id) == ("Contact", contact["Id"])
    assert result.person.outcome in ("matched", "updated")
    assert query(crm, tenant, "SELECT Id FROM Lead") == []
    [task] = query(crm, tenant, "SELECT WhoId FROM Task")
    assert task["WhoId"] == contact["Id"]


async def test_contact_first_matching_can_be_turned_off(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        records={"Contact": [{"FirstName": "Cy", "LastName": "Other", "Email": "cy@acme.example"}]}
    )
    await crm.configure(TenantSettings(tenant_id=tenant, sales_match_contacts=False))
    conv = chat(tenant, visitor={"email": "cy@acme.example"})
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], timeout=20)
    assert result.person is not None
    assert (result.person.object, result.person.outcome) == ("Lead", "created")


async def test_a_contact_wins_over_a_lead_of_the_same_email(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        records={
            "Contact": [{"LastName": "Known", "Email": "both@acme.example"}],
            "Lead": [{"LastName": "Known", "Company": "Acme", "Email": "both@acme.example"}],
        }
    )
    [contact] = query(crm, tenant, "SELECT Id FROM Contact")
    conv = chat(tenant, visitor={"email": "both@acme.example"})
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], timeout=20)
    assert result.person is not None
    assert result.person.record_id == contact["Id"]
