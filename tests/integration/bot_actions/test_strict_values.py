"""bot-actions against the strict emulator: a value its field cannot hold gets a clear
validation error naming the field, before any write (never Salesforce's refusal)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from chat_bot_client.client import BotActionFailed, BotActionsClient
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth

FIELDS = [
    {
        "object": "Lead",
        "name": "Tier__c",
        "type": "picklist",
        "picklist": ["Gold", "Silver"],
        "restricted": True,
    },
    {"object": "Lead", "name": "Seats__c", "type": "int"},
    {"object": "Lead", "name": "Since__c", "type": "date"},
]
LEAD = {"LastName": "Lee", "Company": "Acme"}


@pytest.fixture
def strict_org(sf_org_factory: Callable[..., EmulatorOrg]) -> EmulatorOrg:
    return sf_org_factory(name="Strict", custom_fields=FIELDS)


@pytest.fixture
def strict_tenant(auth: FakeAuth, strict_org: EmulatorOrg) -> str:
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    auth.connect(tenant_id, strict_org)
    return tenant_id


@pytest.mark.parametrize(
    ("field", "value"),
    [("Tier__c", "Platinum"), ("Seats__c", "many"), ("Seats__c", "1e400"), ("Since__c", "soon")],
)
async def test_a_value_its_field_cannot_hold_is_a_validation_error_naming_it(
    bot: BotActionsClient, strict_tenant: str, field: str, value: str
) -> None:
    with pytest.raises(BotActionFailed) as refused:
        await bot.create_record(strict_tenant, "Lead", {**LEAD, field: value})
    assert (refused.value.code, refused.value.fields) == ("validation", (field,))


async def test_a_picklist_value_takes_the_orgs_spelling(
    bot: BotActionsClient,
    strict_tenant: str,
    strict_org: EmulatorOrg,
    sf_emulator: SalesforceEmulator,
) -> None:
    created = await bot.create_record(strict_tenant, "Lead", {**LEAD, "Tier__c": "gold"})
    lead = sf_emulator.client(strict_org).restful(f"sobjects/Lead/{created.record_id}")
    assert lead is not None
    assert lead["Tier__c"] == "Gold"
