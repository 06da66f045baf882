"""Every action, reply status and error code, through Kafka, bot-actions and the emulator."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from chat_bot_client.client import BotActionFailed, BotActionsClient
from chat_contracts.bot import FindRecordRequest
from chat_contracts.bot_replies import RecordFoundReply
from tests.emulator_fixtures import EmulatorOrg, SalesforceEmulator
from tests.integration.salesforce.fake_auth import FakeAuth

VISITOR = {"Visitor.Email": "jo@example.com", "Visitor.Name": "Jo Bloggs"}


async def test_create_record_then_update_if_exists(bot: BotActionsClient, tenant: str) -> None:
    fields = {"LastName": "{!Visitor.Name}", "Company": "Bloggs Ltd", "Email": "new@example.com"}
    created = await bot.create_record(tenant, "Lead", fields, variables=VISITOR)
    assert created.status == "created"
    updated = await bot.create_record(
        tenant,
        "Lead",
        {**fields, "Company": "Bloggs plc", "Email": "NEW@example.com"},
        variables=VISITOR,
        update_if_exists="Email",
    )
    assert (updated.status, updated.record_id) == ("updated", created.record_id)
    found = await bot.find_record(
        tenant, "Lead", "Id", created.record_id, save={"Company": "company", "LastName": "name"}
    )
    assert found.status == "found"
    assert found.variables == {"company": "Bloggs plc", "name": "Jo Bloggs"}


async def test_create_record_refusals(bot: BotActionsClient, tenant: str) -> None:
    with pytest.raises(BotActionFailed) as missing:
        await bot.create_record(tenant, "Lead", {"LastName": "x"})
    assert (missing.value.code, missing.value.fields) == ("required_fields_missing", ("Company",))
    with pytest.raises(BotActionFailed) as unknown_field:
        await bot.create_record(tenant, "Lead", {"LastName": "x", "Company": "y", "Shoe__c": 1})
    assert (unknown_field.value.code, unknown_field.value.fields) == ("unknown_field", ("Shoe__c",))
    with pytest.raises(BotActionFailed) as unknown_object:
        await bot.create_record(tenant, "Spaceship__c", {"Name": "x"})
    assert unknown_object.value.code == "unknown_object"
    with pytest.raises(BotActionFailed) as placeholder:
        await bot.create_record(tenant, "Lead", {"LastName": "{!Visitor.Nmae}", "Company": "y"})
    assert (placeholder.value.code, placeholder.value.fields) == ("validation", ("Visitor.Nmae",))
    with pytest.raises(BotActionFailed) as too_long:
        await bot.create_record(tenant, "Lead", {"LastName": "x" * 300, "Company": "y"})
    assert too_long.value.code == "salesforce_error"
    assert "STRING_TOO_LONG" in str(too_long.value)


async def test_find_record(bot: BotActionsClient, tenant: str) -> None:
    found = await bot.find_record(
        tenant,
        "Lead",
        "Email",
        "{!Visitor.Email}",
        variables={"Visitor.Email": "JO@EXAMPLE.COM"},
        save={"Id": "lead_id", "Company": "company", "Owner.Email": "owner"},
    )
    assert found.status == "found"
    assert found.variables["company"] == "Acme"
    assert found.variables["lead_id"] == found.record_id
    assert found.variables["owner"]
    missing = await bot.find_record(tenant, "Lead", "Email", "nobody@example.com")
    assert missing.status == "not_found"
    with pytest.raises(BotActionFailed) as exc:
        await bot.find_record(tenant, "Lead", "Emial", "x", save={"Shoe": "s"})
    assert (exc.value.code, exc.value.fields) == ("unknown_field", ("Emial", "Shoe"))


async def test_the_first_of_several_is_the_oldest(bot: BotActionsClient, tenant: str) -> None:
    ids = [
        (
            await bot.create_record(tenant, "Lead", {"LastName": f"Dup{i}", "Company": "Same Co"})
        ).record_id
        for i in range(3)
    ]
    for _ in range(3):
        found = await bot.find_record(tenant, "Lead", "Company", "same co", save={"LastName": "n"})
        assert isinstance(found, RecordFoundReply)
        assert (found.record_id, found.variables) == (ids[0], {"n": "Dup0"})


async def test_find_record_by_soql(bot: BotActionsClient, tenant: str) -> None:
    contact = await bot.create_record(
        tenant, "Contact", {"LastName": "Bloggs", "Email": "{!Visitor.Email}"}, variables=VISITOR
    )
    case = await bot.create_record(
        tenant, "Case", {"Subject": "Help", "ContactId": contact.record_id}
    )
    # The knowledge base's example, double quotes and all.
    found = await bot.find_record_by_soql(
        tenant,
        'SELECT Id, Subject FROM Case WHERE Contact.Email = "{!Visitor.Email}"',
        variables=VISITOR,
        save={"Id": "case_id", "Subject": "subject"},
    )
    assert found.status == "found"
    assert found.variables == {"case_id": case.record_id, "subject": "Help"}
    evil = {"Visitor.Email": "x' OR Subject != '"}
    none = await bot.find_record_by_soql(
        tenant, "SELECT Id FROM Case WHERE Contact.Email = '{!Visitor.Email}'", variables=evil
    )
    assert none.status == "not_found"


async def test_find_record_by_soql_refusals(
    bot: BotActionsClient, tenant: str, sf_emulator: SalesforceEmulator, auth: FakeAuth
) -> None:
    org_id = auth.orgs[tenant].org_id
    before = sf_emulator.usage(org_id)["total"]
    with pytest.raises(BotActionFailed) as not_selected:
        await bot.find_record_by_soql(tenant, "SELECT Id FROM Case", save={"Subject": "s"})
    assert (not_selected.value.code, not_selected.value.fields) == ("validation", ("Subject",))
    assert sf_emulator.usage(org_id)["total"] == before  # refused before calling Salesforce
    with pytest.raises(BotActionFailed) as malformed:
        await bot.find_record_by_soql(tenant, "SELECT Id FROM Case WHERE Subject ==")
    assert malformed.value.code == "validation"
    with pytest.raises(BotActionFailed) as unknown_object:
        await bot.find_record_by_soql(tenant, "SELECT Id FROM Spaceship__c")
    assert unknown_object.value.code == "unknown_object"
    with pytest.raises(BotActionFailed) as unknown_field:
        await bot.find_record_by_soql(tenant, "SELECT Warp__c FROM Case")
    assert unknown_field.value.code == "unknown_field"


async def test_list_and_describe_objects(bot: BotActionsClient, tenant: str) -> None:
    objects = {o.name: o for o in (await bot.list_objects(tenant)).objects}
    assert {"Lead", "Contact", "Case", "Task", "Account"} <= set(objects)
    assert objects["Lead"].createable
    lead = await bot.describe_object(tenant, "lead")
    assert lead.object == "Lead"
    assert {f.name for f in lead.fields if f.required} == {"LastName", "Company"}
    with pytest.raises(BotActionFailed) as exc:
        await bot.describe_object(tenant, "Spaceship__c")
    assert exc.value.code == "unknown_object"


async def test_not_connected_and_revoked(
    bot: BotActionsClient, auth: FakeAuth, tenant: str
) -> None:
    with pytest.raises(BotActionFailed) as never:
        await bot.list_objects("never-connected")
    assert never.value.code == "not_connected"
    auth.revoked.add(tenant)
    with pytest.raises(BotActionFailed) as revoked:
        await bot.list_objects(tenant)
    assert revoked.value.code == "not_connected"
    assert "revoked" in str(revoked.value)


async def test_expired_session_is_renewed_transparently(
    bot: BotActionsClient, tenant: str, auth: FakeAuth, sf_emulator: SalesforceEmulator
) -> None:
    await bot.find_record(tenant, "Lead", "Email", "jo@example.com")
    org_id = auth.orgs[tenant].org_id
    sf_emulator.call("POST", f"/__admin/orgs/{org_id}/expire-sessions").raise_for_status()
    found = await bot.find_record(tenant, "Lead", "Email", "jo@example.com")
    assert found.status == "found"
    assert [
        r.rejected_token_fingerprint is not None for r in auth.requests if r.tenant_id == tenant
    ] == [False, True]


async def test_tenants_cannot_reach_each_others_org(
    bot: BotActionsClient, auth: FakeAuth, tenant: str, sf_org_factory: Callable[..., EmulatorOrg]
) -> None:
    other = f"t{uuid.uuid4().hex[:10]}"
    auth.connect(other, sf_org_factory(name="Other Org"))
    assert (await bot.find_record(tenant, "Lead", "Email", "jo@example.com")).status == "found"
    assert (await bot.find_record(other, "Lead", "Email", "jo@example.com")).status == "not_found"


async def test_request_limit_is_a_salesforce_error(
    bot: BotActionsClient, tenant: str, auth: FakeAuth, sf_emulator: SalesforceEmulator
) -> None:
    org_id = auth.orgs[tenant].org_id
    await bot.find_record(tenant, "Lead", "Email", "jo@example.com")  # describe cached
    sf_emulator.call(
        "PATCH", f"/__admin/orgs/{org_id}", json={"api_limit": 1, "api_limit_blocks": True}
    ).raise_for_status()
    reply = await bot.send(
        FindRecordRequest(tenant_id=tenant, object="Lead", field="Email", value="x")
    )
    assert reply.status == "error"
    assert reply.code == "salesforce_error"
    assert "REQUEST_LIMIT_EXCEEDED" in reply.message


async def test_a_number_too_large_to_write_out_is_refused_not_built(
    bot: BotActionsClient, tenant: str
) -> None:
    # Written out in plain notation, which SOQL needs, this is a 100 MB literal (and
    # 1e999999999 a gigabyte: a pod killed for memory with every request in flight).
    for value in ("1e99999999", "-1e-99999999"):
        with pytest.raises(BotActionFailed) as exc:
            await bot.find_record(tenant, "Account", "NumberOfEmployees", value, timeout=5)
        assert (exc.value.code, exc.value.fields) == ("validation", ("NumberOfEmployees",))
    found = await bot.find_record(tenant, "Account", "NumberOfEmployees", "1e3", timeout=5)
    assert found.status in {"found", "not_found"}  # an ordinary exponent still works
