"""What one visitor types must not stop any tenant: hostile values on the real broker."""

from __future__ import annotations

from chat_contracts.settings import FieldMappingRule, TenantSettings
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import CHAT_ID_FIELDS, chat
from tests.integration.crm_sync.test_sync import query

NOT_NUMBERS = ("nan", "NaN", "inf", "-Infinity", "1e400", "-1e999")


async def test_a_non_finite_number_in_a_mapped_number_field_stalls_no_tenant(crm: Crm) -> None:
    hostile, _ = crm.tenant(
        custom_fields=[
            *CHAT_ID_FIELDS,
            {"object": "Lead", "name": "Seats__c", "type": "int"},
            {"object": "Lead", "name": "Budget__c", "type": "double"},
        ]
    )
    healthy, _ = crm.tenant()
    rules = (
        FieldMappingRule(object="Lead", source="custom_fields.Seats", target="Seats__c"),
        FieldMappingRule(object="Lead", source="custom_fields.Budget", target="Budget__c"),
    )
    await crm.configure(TenantSettings(tenant_id=hostile, field_mapping=rules))
    hostile_chats = [
        chat(hostile, custom_fields={"Seats": value, "Budget": value}) for value in NOT_NUMBERS
    ]
    fine = chat(hostile, custom_fields={"Seats": "12", "Budget": "1,500.50"})
    normal = chat(healthy)
    await crm.producer.conversations(crm.topics.conversations, [*hostile_chats, fine, normal])
    # The other tenant's chat lands, and so do the hostile tenant's: without the value
    # that is not a number, which no Salesforce number field could hold.
    await crm.results.wait(healthy, [normal.chat_id], timeout=20)
    await crm.results.wait(hostile, [c.chat_id for c in [*hostile_chats, fine]], timeout=20)
    leads = query(crm, hostile, "SELECT Email, Seats__c, Budget__c FROM Lead")
    values = {lead["Email"]: (lead["Seats__c"], lead["Budget__c"]) for lead in leads}
    assert values.pop(fine.visitor.email) == (12, 1500.5)
    assert set(values.values()) == {(None, None)}
    assert len(values) == len(NOT_NUMBERS)


async def test_a_key_that_is_not_utf8_stalls_no_tenant(crm: Crm) -> None:
    odd, _ = crm.tenant()
    healthy, _ = crm.tenant()
    stray = chat(odd)
    normal = chat(healthy)
    # Any producer may key a record with any bytes; the key decides only the partition.
    await crm.producer.raw(
        crm.topics.conversations, b"\xff\xfe|\x80", stray.model_dump_json().encode()
    )
    await crm.producer.conversations(crm.topics.conversations, [normal])
    await crm.results.wait(healthy, [normal.chat_id], timeout=20)
    await crm.results.wait(odd, [stray.chat_id], timeout=20)  # its value says whose it is
