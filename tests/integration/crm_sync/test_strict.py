"""crm-sync against the strict emulator: what a real org refuses, and how crm-sync copes."""

from __future__ import annotations

import uuid

from chat_contracts.settings import FieldMappingRule, TenantSettings, UpdatePolicy
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import CHAT_ID_FIELDS, chat
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


async def test_a_duplicate_rule_links_the_person_it_found_and_never_dead_letters(
    crm: Crm,
) -> None:
    # The org's standard rule matches on name and company; the visitor comes with a new
    # email, so crm-sync's own matching finds no one, and Salesforce's answer names no id.
    tenant, _ = crm.tenant(
        records={"Lead": [{"FirstName": "Ada", "LastName": "Byron", "Company": "Analytical Ltd"}]}
    )
    [known] = query(crm, tenant, "SELECT Id FROM Lead WHERE LastName = 'Byron'")
    same = chat(
        tenant,
        visitor={"first_name": "Ada", "last_name": "Byron", "company": "Analytical"},
    )
    await crm.producer.conversations(crm.topics.conversations, [same])
    [result] = await crm.results.wait(tenant, [same.chat_id], timeout=20)
    assert result.person is not None
    assert (result.person.outcome, result.person.record_id) == ("matched", known["Id"])
    assert len(query(crm, tenant, "SELECT Id FROM Lead")) == 1


async def test_a_duplicate_rule_that_found_no_one_we_can_see_saves_with_allow_save(
    crm: Crm,
) -> None:
    # The rule's match is fuzzier than what crm-sync re-reads (here a first name given as
    # its initial): the Lead is saved anyway, as an alert rule allows.
    tenant, _ = crm.tenant(
        records={"Lead": [{"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines"}]}
    )
    initial = chat(
        tenant,
        visitor={"first_name": "A", "last_name": "Lovelace", "company": "Engines"},
    )
    await crm.producer.conversations(crm.topics.conversations, [initial])
    [result] = await crm.results.wait(tenant, [initial.chat_id], timeout=20)
    assert result.person is not None
    assert result.person.outcome == "created"
    assert len(query(crm, tenant, "SELECT Id FROM Lead")) == 2


async def test_a_blocking_duplicate_rule_still_writes_the_chat(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        duplicate_rules="block",
        records={"Lead": [{"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines"}]},
    )
    initial = chat(
        tenant,
        visitor={"first_name": "A", "last_name": "Lovelace", "company": "Engines"},
    )
    await crm.producer.conversations(crm.topics.conversations, [initial])
    [result] = await crm.results.wait(tenant, [initial.chat_id], timeout=20)
    assert result.status == "ok"
    assert result.person is None  # no person Salesforce lets us create or we can find
    [task] = query(crm, tenant, "SELECT WhoId FROM Task")
    assert task["WhoId"] is None


async def test_an_inactive_fallback_owner_falls_back_to_the_connected_user(crm: Crm) -> None:
    tenant, org = crm.tenant(
        users=[
            {"username": f"admin@{uuid.uuid4().hex[:8]}.example"},
            {"username": f"left@{uuid.uuid4().hex[:8]}.example", "active": False},
        ]
    )
    left = org.users[1]["id"]
    await crm.configure(TenantSettings(tenant_id=tenant, owner_fallback_user_id=left))
    conv = chat(tenant)  # its agent is no User of the org: the fallback owner applies
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], status=None, timeout=20)
    assert result.status == "ok", result
    assert result.owner_source == "connected_user"
    [lead] = query(crm, tenant, "SELECT OwnerId FROM Lead")
    assert lead["OwnerId"] == org.user_id


async def test_a_visitor_value_outside_a_restricted_picklist_is_left_out(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        custom_fields=[
            *CHAT_ID_FIELDS,
            {
                "object": "Lead",
                "name": "Tier__c",
                "type": "picklist",
                "picklist": ["Gold", "Silver"],
                "restricted": True,
            },
        ]
    )
    rule = FieldMappingRule(object="Lead", source="custom_fields.Tier", target="Tier__c")
    await crm.configure(TenantSettings(tenant_id=tenant, field_mapping=(rule,)))
    odd = chat(tenant, custom_fields={"Tier": "Platinum"})
    fine = chat(tenant, custom_fields={"Tier": "gold"})  # the org's spelling is used
    await crm.producer.conversations(crm.topics.conversations, [odd, fine])
    r_odd, r_fine = await crm.results.wait(tenant, [odd.chat_id, fine.chat_id], timeout=20)
    assert r_odd.dropped_fields == ("Lead.Tier__c",)  # reported as left out
    assert r_fine.dropped_fields == ()
    tiers = {
        lead["Email"]: lead["Tier__c"]
        for lead in query(crm, tenant, "SELECT Email, Tier__c FROM Lead")
    }
    assert tiers == {odd.visitor.email: None, fine.visitor.email: "Gold"}


async def test_the_agent_stays_owner_where_assignment_rules_would_reroute(crm: Crm) -> None:
    # REST runs the org's active assignment rules unless told not to: crm-sync sends
    # `Sforce-Auto-Assign: FALSE`, so the owner it chose (the agent) stays.
    queue = f"queue@{uuid.uuid4().hex[:8]}.example"
    tenant, org = crm.tenant(
        users=[
            {"username": f"admin@{uuid.uuid4().hex[:8]}.example"},
            {"username": f"agent.{uuid.uuid4().hex[:8]}", "email": "agent@example.com"},
            {"username": queue},
        ],
        assignment_rule_owner=queue,
    )
    agent, routed = org.users[1]["id"], org.users[2]["id"]
    conv = chat(tenant, agent={"email": "agent@example.com", "name": "Agent"})
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], timeout=20)
    assert result.owner_id == agent
    [lead] = query(crm, tenant, "SELECT OwnerId FROM Lead")
    assert lead["OwnerId"] == agent

    # A tenant that wants its org's rules to route new Leads says so.
    await crm.configure(TenantSettings(tenant_id=tenant, use_assignment_rules=True))
    other = chat(
        tenant,
        visitor={"email": "routed@example.com"},
        agent={"email": "agent@example.com", "name": "Agent"},
    )
    await crm.producer.conversations(crm.topics.conversations, [other])
    await crm.results.wait(tenant, [other.chat_id], timeout=20)
    [routed_lead] = query(
        crm, tenant, "SELECT OwnerId FROM Lead WHERE Email = {}", "routed@example.com"
    )
    assert routed_lead["OwnerId"] == routed


async def test_text_is_cut_in_the_units_an_org_counting_utf16_counts(crm: Crm) -> None:
    # A character outside the BMP is two UTF-16 code units: cut by code points, 255 emoji
    # would be refused again and again (max length=255) until the chat is given up.
    tenant, _ = crm.tenant(string_length_utf16=True)
    emoji = "\U0001f600"
    conv = chat(tenant, visitor={"company": emoji * 255})
    await crm.producer.conversations(crm.topics.conversations, [conv])
    [result] = await crm.results.wait(tenant, [conv.chat_id], status=None, timeout=20)
    assert result.status == "ok", result
    assert "Lead.Company" in result.truncated_fields
    [lead] = query(crm, tenant, "SELECT Company FROM Lead")
    assert lead["Company"] == emoji * 127  # 254 units: a pair is never split
