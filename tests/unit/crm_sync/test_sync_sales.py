"""Sales mode through the use case, against an in-memory org."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chat_contracts.settings import FieldMappingRule, UpdatePolicy
from crm_sync.domain.salesforce import RecordError
from tests.unit.crm_sync.conftest import Harness, conversation
from tests.unit.crm_sync.fakes import CONNECTED_USER


async def test_new_visitor_becomes_a_lead_with_a_completed_task(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    harness.settings(company_placeholder="[none]")
    conv = conversation(visitor={"phone_e164": "+442079460018"}, agent=None)

    [result] = await harness.send(conv)

    assert result.status == "ok"
    assert not result.deduped
    [lead] = org.all("Lead")
    assert (lead["FirstName"], lead["LastName"], lead["Email"]) == (
        "Jo",
        "Bloggs",
        conv.visitor.email,
    )
    assert lead["Company"] == "[none]"
    assert lead["Phone"] == "+442079460018"
    assert lead["OwnerId"] == CONNECTED_USER
    [task] = org.all("Task")
    assert task["WhoId"] == lead["Id"]
    assert task["Status"] == "Completed"
    assert task["Subject"] == f"Chat {conv.chat_id}"
    assert task["ActivityDate"] == "2024-05-01"
    assert task["Chat_Id__c"] == f"chat:{conv.tenant_id}:{conv.chat_id}"
    assert "Transcript:\n[11:55] Jo: Hi" in task["Description"]
    assert result.person is not None
    assert result.person.outcome == "created"
    assert result.activity is not None
    assert result.activity.record_id == task["Id"]
    assert result.owner_source == "connected_user"


async def test_a_batch_costs_a_describe_once_then_two_calls(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    await harness.send(*[conversation() for _ in range(50)])
    assert org.calls == 3  # describe, read, write
    results = await harness.send(*[conversation() for _ in range(150)])
    assert org.calls == 5
    assert len(org.all("Lead")) == 200
    assert len(org.all("Task")) == 200
    assert {r.api_calls for r in results} == {round(2 / 150, 6)}


async def test_two_chats_of_one_new_visitor_make_one_lead_and_two_tasks(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    first = conversation(visitor={"email": "same@example.com"})
    second = conversation(visitor={"email": "Same@Example.com"})
    results = await harness.send(first, second)
    assert len(org.all("Lead")) == 1
    assert len(org.all("Task")) == 2
    assert {r.person.record_id for r in results if r.person} == {org.all("Lead")[0]["Id"]}


async def test_redelivered_chat_creates_nothing(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    conv = conversation()
    await harness.send(conv)
    [again] = await harness.send(conv)
    assert len(org.all("Lead")) == 1
    assert len(org.all("Task")) == 1
    assert again.deduped
    assert again.activity is not None
    assert again.activity.outcome == "existing"
    assert again.person is not None
    assert again.person.outcome == "matched"


async def test_a_chat_written_with_the_key_before_tenants_were_in_it_is_not_written_again(
    harness: Harness,
) -> None:
    org = harness.salesforce.org("t1")
    conv = conversation()
    lead = org.add("Lead", LastName="Bloggs", Email=conv.visitor.email, Company="A")
    org.add("Task", WhoId=lead, Subject="old", Chat_Id__c=f"chat:{conv.chat_id}")
    [again] = await harness.send(conv)
    assert again.deduped
    assert len(org.all("Task")) == 1


async def test_without_legacy_keys_only_the_tenants_key_counts(harness: Harness) -> None:
    harness.engine.options = replace(harness.engine.options, legacy_chat_keys=False)
    org = harness.salesforce.org("t1")
    conv = conversation()
    org.add("Task", Subject="another tenant's", Chat_Id__c=f"chat:{conv.chat_id}")
    [result] = await harness.send(conv)
    assert not result.deduped
    assert sorted(t["Chat_Id__c"] for t in org.all("Task")) == [
        f"chat:{conv.chat_id}",
        f"chat:t1:{conv.chat_id}",
    ]


async def test_existing_lead_is_matched_most_recent_first(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.add("Lead", LastName="Old", Email="jo@x.com", Company="A")
    newer = org.add("Lead", LastName="New", Email="JO@x.com", Company="B")
    [result] = await harness.send(conversation(visitor={"email": "jo@x.com"}))
    assert result.person is not None
    assert result.person.record_id == newer
    assert len(org.all("Lead")) == 2
    assert org.all("Task")[0]["WhoId"] == newer


async def test_converted_lead_is_followed_to_its_contact(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    lead = org.add("Lead", LastName="Bloggs", Email="jo@x.com", Company="A")
    contact = org.convert(lead)
    harness.settings(update_policy=UpdatePolicy.FILL_EMPTY_ONLY)
    [result] = await harness.send(
        conversation(visitor={"email": "jo@x.com", "phone_e164": "+15005550006"})
    )
    assert result.person is not None
    assert (result.person.object, result.person.record_id) == ("Contact", contact)
    assert result.person.converted_from_lead_id == lead
    assert len(org.all("Lead")) == 1
    assert org.all("Task")[0]["WhoId"] == contact
    assert org.records["Contact"][contact]["Phone"] == "+15005550006"


async def test_update_policies(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    keep = org.add("Lead", FirstName="Joanna", LastName="B", Email="a@x.com", Company="Old Co")
    fill = org.add("Lead", LastName="B", Email="b@x.com", Company="Old Co")
    overwrite = org.add("Lead", FirstName="Joanna", LastName="B", Email="c@x.com", Company="Old Co")
    visitor = {"first_name": "Jo", "last_name": "Bloggs", "company": "New Co"}

    harness.settings(update_policy=UpdatePolicy.DO_NOT_UPDATE)
    [r1] = await harness.send(conversation(visitor={**visitor, "email": "a@x.com"}))
    harness.settings(update_policy=UpdatePolicy.FILL_EMPTY_ONLY)
    [r2] = await harness.send(conversation(visitor={**visitor, "email": "b@x.com"}))
    harness.settings(update_policy=UpdatePolicy.UPDATE_FROM_CHAT)
    [r3] = await harness.send(conversation(visitor={**visitor, "email": "c@x.com"}))

    leads = org.records["Lead"]
    assert (leads[keep]["FirstName"], leads[keep]["Company"]) == ("Joanna", "Old Co")
    assert (leads[fill]["FirstName"], leads[fill]["LastName"], leads[fill]["Company"]) == (
        "Jo",
        "B",
        "Old Co",
    )
    assert (leads[overwrite]["FirstName"], leads[overwrite]["LastName"]) == ("Jo", "Bloggs")
    assert leads[overwrite]["Company"] == "New Co"
    assert [r.person.outcome for r in (r1, r2, r3) if r.person] == ["matched", "updated", "updated"]


async def test_same_phone_in_another_spelling_is_not_rewritten(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    lead = org.add("Lead", LastName="B", Email="a@x.com", Company="C", Phone="+44 20 7946 0018")
    harness.settings(update_policy=UpdatePolicy.UPDATE_FROM_CHAT)
    conv = conversation(
        visitor={
            "email": "a@x.com",
            "last_name": "B",
            "first_name": None,
            "phone_e164": "+442079460018",
        }
    )
    [result] = await harness.send(conv)
    assert org.records["Lead"][lead]["Phone"] == "+44 20 7946 0018"
    assert result.person is not None
    assert result.person.outcome == "matched"


async def test_owner_is_the_agents_user_else_the_configured_one(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    ann = org.add_user("ann@acme.test")
    org.add_user("bob@acme.test", active=False)
    [by_agent] = await harness.send(conversation())
    harness.settings(owner_fallback_user_id="005000000000000777")
    [fallback] = await harness.send(conversation(agent={"email": "bob@acme.test"}))
    assert (by_agent.owner_id, by_agent.owner_source) == (ann, "agent")
    assert (fallback.owner_id, fallback.owner_source) == ("005000000000000777", "configured_user")
    lead = next(r for r in org.all("Lead") if r["Id"] == by_agent.person.record_id)  # type: ignore[union-attr]
    assert lead["OwnerId"] == ann


async def test_users_are_looked_up_once_per_tenant(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    org.add_user("ann@acme.test")
    queries: list[str] = []
    original = org.query

    def counting(query):
        queries.append(query.sobject)
        return original(query)

    org.query = counting  # type: ignore[method-assign]
    await harness.send(conversation())
    await harness.send(conversation())
    assert queries.count("User") == 1


async def test_field_mapping_writes_custom_fields(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    harness.settings(
        field_mapping=(
            FieldMappingRule(object="Lead", source="custom_fields.Order", target="Order_Number__c"),
            FieldMappingRule(object="Lead", source="custom_variables.visits", target="Visits__c"),
            FieldMappingRule(object="Lead", source="request_page", target="Missing__c"),
        )
    )
    await harness.send(
        conversation(
            custom_fields={"Order": "A-42"},
            custom_variables={"visits": "3"},
            request_page="https://x",
        )
    )
    [lead] = org.all("Lead")
    assert lead["Order_Number__c"] == "A-42"
    assert lead["Visits__c"] == 3.0
    assert "Missing__c" not in lead


async def test_visitor_without_email_matched_by_phone_when_enabled(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    known = org.add("Lead", LastName="Unknown", Company="?", Phone="+44 20 7946 0000")
    harness.settings(match_by_phone=True, default_phone_region="GB")
    conv = conversation(visitor={"email": None, "phone_e164": "+442079460000"})
    [result] = await harness.send(conv)
    assert result.person is not None
    assert result.person.record_id == known
    harness.settings(match_by_phone=False)
    await harness.send(conversation(visitor={"email": None, "phone_e164": "+442079460000"}))
    assert len(org.all("Lead")) == 2


async def test_visitors_without_identity_get_a_lead_each(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    anon = {"email": None, "first_name": None, "last_name": None}
    await harness.send(conversation(visitor=anon), conversation(visitor=anon))
    leads = org.all("Lead")
    assert len(leads) == 2
    assert {lead["LastName"] for lead in leads} == {"Chat visitor"}


async def test_a_chat_twice_in_one_batch_is_written_once(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    conv = conversation()
    first, repeat = await harness.send(conv, conv)
    assert len(org.all("Task")) == 1
    assert first.activity is not None
    assert repeat.activity is not None
    assert repeat.activity.record_id == first.activity.record_id
    assert repeat.deduped
    assert not first.deduped


async def test_a_duplicate_chat_key_means_another_writer_won_and_the_chat_is_written(
    harness: Harness,
) -> None:
    # Two workers on one chat (a rebalance): the other one's Task lands between this
    # round's read and write, and the unique chat-id field refuses ours.
    org = harness.salesforce.org("t1")
    conv = conversation()
    raced = iter([True])

    def other_writer_first(method: str, sobject: str, record: Any) -> RecordError | None:
        if sobject == "Task" and next(raced, False):
            org.add("Task", **record.fields)
            return RecordError(
                "DUPLICATE_VALUE",
                "duplicate value found: Chat_Id__c duplicates value on record with id: x",
                ("Chat_Id__c",),
            )
        return None

    org.record_fault = other_writer_first
    [result] = await harness.send(conv)
    assert result.status == "ok"
    assert len(org.all("Task")) == 1
    assert harness.dead() == []


async def test_a_lead_converted_mid_round_is_followed_to_its_contact(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    conv = conversation()
    lead = org.add("Lead", LastName="Bloggs", Email=conv.visitor.email, Company="A")
    converted: list[str] = []

    def convert_first(method: str, sobject: str, record: Any) -> RecordError | None:
        if sobject == "Task" and not converted:
            converted.append(org.convert(lead))  # an admin converts it meanwhile
            return RecordError(
                "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ("WhoId",)
            )
        return None

    org.record_fault = convert_first
    [result] = await harness.send(conv)
    assert result.status == "ok"
    assert result.person is not None
    assert (result.person.object, result.person.record_id) == ("Contact", converted[0])
    [task] = org.all("Task")
    assert task["WhoId"] == converted[0]
