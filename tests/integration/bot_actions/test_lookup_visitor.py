"""lookup_visitor through Kafka, bot-actions and the emulator: a Contact before a Lead,
owner, link and open work, in one Salesforce call (the emulator's usage counter says so)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from chat_bot_client.client import BotActionFailed, BotActionsClient
from chat_contracts.bot_replies import RecordNotFoundReply, VisitorFoundReply
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator, rest
from tests.integration.salesforce.fake_auth import FakeAuth


@pytest.fixture
def org(sf_org_factory: Callable[..., EmulatorOrg]) -> EmulatorOrg:
    return sf_org_factory(
        name="Lookup Org",
        records={
            "Contact": [
                {
                    "FirstName": "Hank",
                    "LastName": "Scorpio",
                    "Email": "hank@globex.example",
                    "Phone": "+44 20 7946 0958",
                }
            ],
            "Lead": [
                {"LastName": "Scorpio", "Company": "Globex", "Email": "hank@globex.example"},
                {"LastName": "Lisa", "Company": "School", "MobilePhone": "020 7946 0000"},
            ],
        },
    )


@pytest.fixture
def tenant(auth: FakeAuth, org: EmulatorOrg) -> str:
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    auth.connect(tenant_id, org)
    return tenant_id


def _calls(sf_emulator: SalesforceEmulator, org: EmulatorOrg) -> int:
    return int(sf_emulator.usage(org.org_id)["total"])


async def test_a_contact_is_found_before_a_lead_in_one_call(
    bot: BotActionsClient, tenant: str, org: EmulatorOrg, sf_emulator: SalesforceEmulator
) -> None:
    sf = sf_emulator.client(org)
    query = "SELECT Id FROM Contact WHERE Email = 'hank@globex.example'"
    contact_id = rest(sf, "query", params={"q": query})["records"][0]["Id"]
    rest(sf, "sobjects/Case", method="POST", json={"Subject": "Help", "ContactId": contact_id})
    rest(
        sf,
        "sobjects/Case",
        method="POST",
        json={"Subject": "Old", "ContactId": contact_id, "Status": "Closed"},
    )
    sf_emulator.call("DELETE", f"/__admin/orgs/{org.org_id}/usage")
    found = await bot.lookup_visitor(
        tenant, email="{!Visitor.Email}", variables={"Visitor.Email": "HANK@globex.example"}
    )
    assert _calls(sf_emulator, org) == 1
    assert isinstance(found, VisitorFoundReply)
    assert (found.object, found.record_id, found.name) == ("Contact", contact_id, "Hank Scorpio")
    assert found.owner_id == org.user_id
    assert found.owner_name
    assert found.url == f"{org.instance_url}/lightning/r/Contact/{contact_id}/view"
    assert (found.open_cases, found.open_tasks) == (1, 0)


async def test_a_lead_is_found_by_phone_in_any_spelling(
    bot: BotActionsClient, tenant: str, org: EmulatorOrg, sf_emulator: SalesforceEmulator
) -> None:
    sf = sf_emulator.client(org)
    lead_id = rest(sf, "query", params={"q": "SELECT Id FROM Lead WHERE LastName = 'Lisa'"})[
        "records"
    ][0]["Id"]
    rest(sf, "sobjects/Task", method="POST", json={"Subject": "Call back", "WhoId": lead_id})
    found = await bot.lookup_visitor(tenant, phone="+44 20 7946 0000")
    assert isinstance(found, VisitorFoundReply)
    assert (found.object, found.record_id, found.open_cases, found.open_tasks) == (
        "Lead",
        lead_id,
        None,
        1,
    )
    local = await bot.lookup_visitor(tenant, phone="020 7946 0000", phone_region="GB")
    assert isinstance(local, VisitorFoundReply)
    assert local.record_id == lead_id
    # Converted, the Lead is never the answer again: its Contact is.
    converted = sf_emulator.call("POST", f"/__admin/orgs/{org.org_id}/leads/{lead_id}/convert")
    after = await bot.lookup_visitor(tenant, phone="+442079460000")
    assert isinstance(after, VisitorFoundReply)
    assert (after.object, after.record_id) == ("Contact", converted.json()["contactId"])
    assert after.open_tasks == 1  # conversion moved the Task to the Contact


async def test_nobody_and_hostile_values_are_not_found(bot: BotActionsClient, tenant: str) -> None:
    nobody = await bot.lookup_visitor(tenant, email="nobody@example.com", phone="+1 202 555 0100")
    assert isinstance(nobody, RecordNotFoundReply)
    hostile = await bot.lookup_visitor(tenant, email="x' OR Email != 'y", phone="@{contact.id}")
    assert isinstance(hostile, RecordNotFoundReply)
    empty = await bot.lookup_visitor(
        tenant, email="{!Visitor.Email}", variables={"Visitor.Email": None}
    )
    assert isinstance(empty, RecordNotFoundReply)
    with pytest.raises(BotActionFailed) as unknown:
        await bot.lookup_visitor(tenant, email="{!Visitor.Mail}")
    assert (unknown.value.code, unknown.value.fields) == ("validation", ("Visitor.Mail",))
