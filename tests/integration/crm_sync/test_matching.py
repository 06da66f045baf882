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


async def _support_chat(crm: Crm, tenant: str, **visitor: str) -> str:
    conv = chat(tenant, visitor=visitor)
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], timeout=20)
    assert result.person is not None
    assert result.person.object == "Contact"
    return result.person.record_id


async def test_support_contacts_join_the_account_of_their_company(crm: Crm) -> None:
    tenant, _ = crm.tenant(records={"Account": [{"Name": "Initech"}]})
    [account] = query(crm, tenant, "SELECT Id FROM Account")
    await crm.configure(TenantSettings(tenant_id=tenant, mode="support"))
    contact = await _support_chat(crm, tenant, company="INITECH", email="p@initech.example")
    [row] = query(crm, tenant, "SELECT AccountId FROM Contact WHERE Id = {}", contact)
    assert row["AccountId"] == account["Id"]
    # A company no Account has: no Account is made unless the tenant says so.
    other = await _support_chat(crm, tenant, company="Umbrella", email="a@umbrella.example")
    [row] = query(crm, tenant, "SELECT AccountId FROM Contact WHERE Id = {}", other)
    assert row["AccountId"] is None


async def test_support_contacts_by_email_domain_never_a_free_mail_one(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        records={"Account": [{"Name": "Acme", "Website": "https://www.acme.example/"}]}
    )
    [acme] = query(crm, tenant, "SELECT Id FROM Account")
    await crm.configure(
        TenantSettings(
            tenant_id=tenant, mode="support", account_linking="email_domain", create_account=True
        )
    )
    contact = await _support_chat(crm, tenant, email="wile@acme.example")
    [row] = query(crm, tenant, "SELECT AccountId FROM Contact WHERE Id = {}", contact)
    assert row["AccountId"] == acme["Id"]
    first = await _support_chat(crm, tenant, email="one@gmail.com")
    second = await _support_chat(crm, tenant, email="two@gmail.com")
    rows = query(crm, tenant, "SELECT AccountId FROM Contact WHERE Id IN {}", [first, second])
    assert [r["AccountId"] for r in rows] == [None, None]  # never one Account for gmail.com
    assert len(query(crm, tenant, "SELECT Id FROM Account")) == 1


async def test_support_creates_the_account_once_when_told_to(crm: Crm) -> None:
    tenant, _ = crm.tenant()
    await crm.configure(TenantSettings(tenant_id=tenant, mode="support", create_account=True))
    first = await _support_chat(crm, tenant, company="Globex", email="h@globex.example")
    second = await _support_chat(crm, tenant, company="Globex", email="m@globex.example")
    [account] = query(crm, tenant, "SELECT Id, Name FROM Account")
    assert account["Name"] == "Globex"
    rows = query(crm, tenant, "SELECT AccountId FROM Contact WHERE Id IN {}", [first, second])
    assert [r["AccountId"] for r in rows] == [account["Id"]] * 2


async def test_a_visitor_joins_the_campaign_of_the_page_once(crm: Crm) -> None:
    tenant, _ = crm.tenant(records={"Campaign": [{"Name": "Spring Sale", "IsActive": True}]})
    [campaign] = query(crm, tenant, "SELECT Id FROM Campaign")
    await crm.configure(TenantSettings(tenant_id=tenant, campaign={"member_status": "Responded"}))
    page = "https://acme.test/pricing?utm_source=ads&utm_campaign=spring%20sale"
    first = chat(tenant, visitor={"email": "camp@acme.example"}, request_page=page)
    await crm.producer.conversations(crm.topics.conversations, [first])
    [result] = await crm.results.wait(tenant, [first.chat_id], timeout=20)
    assert result.person is not None
    # The same chat delivered again, and the visitor's next chat: still one membership.
    again = chat(tenant, visitor={"email": "camp@acme.example"}, request_page=page)
    await crm.producer.conversations(crm.topics.conversations, [first, again])
    await crm.results.wait(tenant, [first.chat_id, again.chat_id], count=1, timeout=20)
    await crm.results.wait(tenant, [first.chat_id], count=2, timeout=20)
    members = query(crm, tenant, "SELECT CampaignId, LeadId, Status FROM CampaignMember")
    assert members == [
        {
            "attributes": members[0]["attributes"],
            "CampaignId": campaign["Id"],
            "LeadId": result.person.record_id,
            "Status": "Responded",
        }
    ]


async def test_a_campaign_id_from_a_custom_variable_and_an_unknown_one(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        records={
            "Campaign": [{"Name": "Webinar"}],
            "Contact": [{"LastName": "Known", "Email": "known@acme.example"}],
        }
    )
    [campaign] = query(crm, tenant, "SELECT Id FROM Campaign")
    [contact] = query(crm, tenant, "SELECT Id FROM Contact")
    rule = {"source": "custom_variables.campaign", "match": "id"}
    await crm.configure(TenantSettings(tenant_id=tenant, campaign=rule))
    known = chat(
        tenant,
        visitor={"email": "known@acme.example"},
        custom_variables={"campaign": campaign["Id"]},
    )
    stray = chat(tenant, custom_variables={"campaign": "701000000000000AAA"})  # no such one
    await crm.producer.conversations(crm.topics.conversations, [known, stray])
    done = await crm.results.wait(tenant, [known.chat_id, stray.chat_id], timeout=20)
    assert [r.status for r in done] == ["ok", "ok"]  # a campaign problem never fails a chat
    [member] = query(crm, tenant, "SELECT ContactId FROM CampaignMember")
    assert member["ContactId"] == contact["Id"]
