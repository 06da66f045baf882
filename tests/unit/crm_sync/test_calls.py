"""Fewer reads: no dedupe read when the chat-id field is a unique external id."""

from __future__ import annotations

from dataclasses import replace

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
    assert "activities" in org.reads[0]
    assert "activities" in plain.reads[0]


async def test_a_redelivered_chat_is_refused_by_its_unique_key_and_reported_existing(
    harness: Harness,
) -> None:
    org = unique_org(harness)
    conv = conversation()
    [first] = await harness.send(conv)
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
    assert all("activities" in read for read in org.reads)
