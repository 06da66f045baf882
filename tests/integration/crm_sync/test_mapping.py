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
