"""Rounds of one call: no dedupe read when the chat-id field is a unique external id, no
persons read when every visitor of the round is known from an earlier round."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chat_contracts.settings import FieldMappingRule, UpdatePolicy
from crm_sync.adapters.ports import CallRejected
from crm_sync.domain.salesforce import RecordError
from tests.unit.crm_sync.conftest import Harness, conversation
from tests.unit.crm_sync.fakes import FakeOrg, standard_schemas


def unique_org(harness: Harness, tenant: str = "t1") -> FakeOrg:
    """An org whose Chat_Id__c is an External ID and Unique, as the README sets it up;
    legacy keys off (a deployment that never wrote them)."""
    harness.engine.options = replace(harness.engine.options, legacy_chat_keys=False)
    return harness.salesforce.org(tenant, schemas=standard_schemas(unique_key=True))


async def test_a_unique_chat_key_needs_no_dedupe_read(harness: Harness) -> None:
    org = unique_org(harness)
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert "activities" not in org.reads[0]
    assert len(org.all("Task")) == 1


async def test_without_a_unique_key_or_with_legacy_keys_the_activities_are_read(
    harness: Harness,
) -> None:
    org = harness.salesforce.org("t1", schemas=standard_schemas(unique_key=True))
    await harness.send(conversation())  # legacy keys on: an old key is not unique-checked
    plain = harness.salesforce.org("t2")
    harness.engine.options = replace(harness.engine.options, legacy_chat_keys=False)
    await harness.send(conversation("t2"))
    # (read again once the describe said so: a first read before it never asks for them)
    assert "activities" in org.reads[1]
    assert "activities" in plain.reads[1]


async def test_a_redelivered_chat_is_refused_by_its_unique_key_and_reported_existing(
    harness: Harness,
) -> None:
    org = unique_org(harness)
    conv = conversation()
    [first] = await harness.send(conv)
    harness.caches.visitors.clear()  # a restart: nothing known, the persons are read
    [again] = await harness.send(conv)
    assert len(org.all("Lead")) == 1
    assert len(org.all("Task")) == 1
    assert again.status == "ok"
    assert again.deduped
    assert again.activity is not None
    assert first.activity is not None
    assert again.activity.outcome == "existing"
    assert again.activity.record_id == first.activity.record_id
    assert again.person is not None
    assert again.person.outcome == "matched"
    assert harness.dead() == []


async def test_a_visitor_without_identity_still_has_its_chat_looked_up(harness: Harness) -> None:
    org = unique_org(harness)
    anon = conversation(visitor={"email": None, "first_name": None, "last_name": None})
    await harness.send(anon)
    await harness.send(anon)  # redelivered: its person cannot be found again but by its chat
    assert len(org.all("Lead")) == 1
    assert len(org.all("Task")) == 1
    # Each round looks it up (the first once its describe said how).
    assert ["activities" in read for read in org.reads] == [False, True, True]


async def test_a_returning_visitors_round_is_one_call(harness: Harness) -> None:
    org = unique_org(harness)
    harness.settings(update_policy=UpdatePolicy.DO_NOT_UPDATE)
    await harness.send(conversation(visitor={"email": "jo@example.com"}))
    calls = org.calls
    [result] = await harness.send(conversation(visitor={"email": "Jo@Example.com"}))
    assert org.calls == calls + 1  # the write alone
    assert result.person is not None
    assert result.person.outcome == "matched"
    [lead] = org.all("Lead")
    assert {t["WhoId"] for t in org.all("Task")} == {lead["Id"]}


async def test_a_round_with_one_visitor_not_known_reads(harness: Harness) -> None:
    org = unique_org(harness)
    await harness.send(conversation(visitor={"email": "jo@example.com"}))
    reads = len(org.reads)
    await harness.send(
        conversation(visitor={"email": "jo@example.com"}),
        conversation(visitor={"email": "new@example.com"}),
    )
    assert len(org.reads) == reads + 1
    assert len(org.all("Lead")) == 2


async def test_a_policy_that_compares_current_values_reads_them(harness: Harness) -> None:
    org = unique_org(harness)
    harness.settings(update_policy=UpdatePolicy.FILL_EMPTY_ONLY)
    await harness.send(conversation(visitor={"email": "jo@example.com", "phone_e164": None}))
    [lead] = org.all("Lead")
    lead["Phone"] = "+441234567890"  # a person fills it in Salesforce meanwhile
    calls = org.calls
    await harness.send(
        conversation(visitor={"email": "jo@example.com", "phone_e164": "+442079460018"})
    )
    assert org.calls == calls + 2  # read (the Phone is filled now), then the Task alone
    assert lead["Phone"] == "+441234567890"


async def test_a_known_visitor_whose_lead_was_deleted_is_read_again(harness: Harness) -> None:
    org = unique_org(harness)
    await harness.send(conversation(visitor={"email": "jo@example.com"}))
    [old] = org.all("Lead")
    del org.records["Lead"][old["Id"]]  # merged away or deleted in Salesforce

    def gone(method: str, sobject: str, record: Any) -> RecordError | None:
        who = record.fields.get("WhoId")
        if sobject == "Task" and isinstance(who, str) and who not in org.records["Lead"]:
            return RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ("WhoId",)
            )
        return None

    org.record_fault = gone
    [result] = await harness.send(conversation(visitor={"email": "jo@example.com"}))
    assert result.status == "ok"
    [lead] = org.all("Lead")
    assert result.person is not None
    assert (result.person.outcome, result.person.record_id) == ("created", lead["Id"])
    assert org.all("Task")[-1]["WhoId"] == lead["Id"]
    assert harness.dead() == []


async def test_a_known_lead_converted_since_is_followed_to_its_contact(harness: Harness) -> None:
    org = unique_org(harness)
    await harness.send(conversation(visitor={"email": "jo@example.com"}))
    [lead] = org.all("Lead")
    contact = org.convert(lead["Id"])

    def converted(method: str, sobject: str, record: Any) -> RecordError | None:
        if sobject == "Task" and record.fields.get("WhoId") == lead["Id"]:
            return RecordError(
                "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ("WhoId",)
            )
        return None

    org.record_fault = converted
    [result] = await harness.send(conversation(visitor={"email": "jo@example.com"}))
    assert result.person is not None
    assert (result.person.object, result.person.record_id) == ("Contact", contact)
    assert org.all("Task")[-1]["WhoId"] == contact


async def test_a_redelivered_chat_of_a_known_visitor_is_reported_existing(
    harness: Harness,
) -> None:
    org = unique_org(harness)
    conv = conversation()
    [first] = await harness.send(conv)
    [again] = await harness.send(conv)  # one call refused by the key, then a read
    assert len(org.all("Task")) == 1
    assert again.deduped
    assert again.activity is not None
    assert first.activity is not None
    assert again.activity.record_id == first.activity.record_id
    assert harness.dead() == []


async def test_what_is_known_of_a_visitor_is_per_mode(harness: Harness) -> None:
    org = unique_org(harness)
    await harness.send(conversation(visitor={"email": "jo@example.com"}))
    harness.settings(mode="support")  # a Lead is not the Contact a Case needs
    reads = len(org.reads)
    await harness.send(conversation(visitor={"email": "jo@example.com"}))
    assert len(org.reads) == reads + 1
    [case] = org.all("Case")
    [contact] = org.all("Contact")
    assert case["ContactId"] == contact["Id"]


async def test_a_new_tenants_describe_rides_on_its_first_read(harness: Harness) -> None:
    org = unique_org(harness)
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert org.calls == 2  # describe and read in one Composite call, then the write
    assert org.operations == ["read+describe", "write"]


async def test_an_expired_describe_is_refreshed_by_the_next_read_and_used_after_it(
    harness: Harness,
) -> None:
    org = harness.salesforce.org("t1")  # Chat_Id__c not unique yet: chats are looked up
    harness.engine.options = replace(harness.engine.options, legacy_chat_keys=False)
    await harness.send(conversation(visitor={"email": "a@example.com"}))
    org.schemas = standard_schemas(unique_key=True)  # the admin makes it unique
    harness.clock.advance(3601)  # the describe is past its time to live
    calls = org.calls
    await harness.send(conversation(visitor={"email": "b@example.com"}))
    # The round ran on the describe it had (so its chat was still looked up) and
    # described the org within its read: no call of its own.
    assert org.calls == calls + 2
    assert org.operations[-2:] == ["read+describe", "write"]
    assert "activities" in org.reads[-1]
    await harness.send(conversation(visitor={"email": "c@example.com"}))
    assert "activities" not in org.reads[-1]  # the refreshed describe: unique, no lookup
    assert org.operations[-2:] == ["read", "write"]
    assert len(org.all("Task")) == 3


async def test_a_first_read_that_lacked_what_the_describe_asks_for_reads_again(
    harness: Harness,
) -> None:
    # Before the describe, a read asks only for what every org has; a tenant mapping a
    # field onto the Lead has its persons read again with it (as many calls as before).
    org = unique_org(harness)
    harness.settings(
        update_policy=UpdatePolicy.FILL_EMPTY_ONLY,
        field_mapping=(
            FieldMappingRule(object="Lead", source="custom_fields.Order", target="Order_Number__c"),
        ),
    )
    org.add("Lead", LastName="Jo", Email="jo@example.com", Order_Number__c="A-1")
    conv = conversation(visitor={"email": "jo@example.com"}, custom_fields={"Order": "B-2"})
    [result] = await harness.send(conv)
    assert result.status == "ok"
    assert org.operations == ["read+describe", "read", "write"]
    [lead] = org.all("Lead")
    assert lead["Order_Number__c"] == "A-1"  # filled already: the policy keeps it


async def test_a_first_read_salesforce_refuses_is_described_and_read_apart(
    harness: Harness,
) -> None:
    org = unique_org(harness)
    refused = [CallRejected("INVALID_FIELD", "No such column 'Phone' on entity 'Lead'")]
    org.call_fault = lambda operation: refused.pop() if operation == "read+describe" else None
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert org.operations == ["describe", "read", "write"]
