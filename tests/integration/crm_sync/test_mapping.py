"""The tenant's field mapping against the emulator: chat metrics as sources, constants and
translations, typed by the org's describe and held to its restricted picklists."""

from __future__ import annotations

from chat_contracts.settings import FieldMappingRule, TenantSettings
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import CHAT_ID_FIELDS, chat
from tests.integration.crm_sync.test_sync import query


async def test_a_chats_rating_and_tags_land_on_its_case(crm: Crm) -> None:
    tenant, _ = crm.tenant(
        custom_fields=[
            *CHAT_ID_FIELDS,
            {"object": "Case", "name": "Rating__c", "type": "double"},
            {"object": "Case", "name": "Wait__c", "type": "int"},
            {"object": "Case", "name": "Tags__c", "type": "multipicklist", "picklist": ["Refund"]},
        ]
    )
    rules = (
        FieldMappingRule(object="Case", source="rating", target="Rating__c"),
        FieldMappingRule(object="Case", source="wait_s", target="Wait__c"),
        FieldMappingRule(object="Case", source="tags", target="Tags__c"),
    )
    await crm.configure(TenantSettings(tenant_id=tenant, mode="support", field_mapping=rules))
    rated = chat(tenant, rating=4, wait_s=42, tags=["refund", "billing"])
    await crm.producer.conversations(crm.topics.conversations, [rated])
    [result] = await crm.results.wait(tenant, [rated.chat_id], timeout=20)
    assert result.status == "ok", result
    [case] = query(crm, tenant, "SELECT Rating__c, Wait__c, Tags__c FROM Case")
    assert (case["Rating__c"], case["Wait__c"]) == (4, 42)
    assert case["Tags__c"] == "Refund;billing"  # not restricted: a new value is kept


async def test_constants_and_translations_land_and_a_constant_the_org_refuses_is_reported(
    crm: Crm,
) -> None:
    restricted = {"type": "picklist", "restricted": True}
    tenant, _ = crm.tenant(
        custom_fields=[
            *CHAT_ID_FIELDS,
            {"object": "Lead", "name": "Team__c", "picklist": ["Sales Team", "Care"], **restricted},
            {"object": "Lead", "name": "Tier__c", "picklist": ["Gold", "Silver"], **restricted},
        ]
    )
    rules = (
        FieldMappingRule(object="Lead", value="Chat", target="LeadSource"),
        FieldMappingRule(
            object="Lead",
            source="department",
            target="Team__c",
            translate={"sales": "Sales Team", "support": "Care"},
        ),
        # auth's settings API refuses this one; written straight to the topic, crm-sync
        # must still leave it out and say so.
        FieldMappingRule(object="Lead", value="Platinum", target="Tier__c"),
    )
    await crm.configure(TenantSettings(tenant_id=tenant, field_mapping=rules))
    sales = chat(tenant, department="Sales")
    other = chat(tenant, department="Billing")
    await crm.producer.conversations(crm.topics.conversations, [sales, other])
    results = await crm.results.wait(tenant, [sales.chat_id, other.chat_id], timeout=20)
    assert [r.status for r in results] == ["ok", "ok"], results
    assert [r.dropped_fields for r in results] == [("Lead.Tier__c",)] * 2
    leads = {
        lead["Email"]: (lead["LeadSource"], lead["Team__c"], lead["Tier__c"])
        for lead in query(crm, tenant, "SELECT Email, LeadSource, Team__c, Tier__c FROM Lead")
    }
    assert leads == {
        sales.visitor.email: ("Chat", "Sales Team", None),
        other.visitor.email: ("Chat", None, None),  # no translation, no default: left out
    }
