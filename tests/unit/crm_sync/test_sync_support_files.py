"""Support mode, long transcripts, attachments, and tenants configured out of the sync."""

from __future__ import annotations

import base64

from chat_contracts.chat import DESCRIPTION_LIMIT
from chat_contracts.dlq import DeadLetterReason
from tests.unit.crm_sync.conftest import Harness, conversation
from tests.unit.crm_sync.fakes import standard_schemas


async def test_support_mode_writes_a_contact_and_a_chat_case(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    harness.settings(mode="support")
    conv = conversation(visitor={"company": "Bloggs Ltd", "phone_e164": "+15005550006"})
    [result] = await harness.send(conv)
    [contact] = org.all("Contact")
    [case] = org.all("Case")
    assert org.all("Lead") == []
    assert org.all("Task") == []
    assert case["ContactId"] == contact["Id"]
    assert case["Origin"] == "Chat"
    assert "Company: Bloggs Ltd" in case["Description"]
    assert (case["SuppliedName"], case["SuppliedEmail"]) == ("Jo Bloggs", conv.visitor.email)
    assert case["Chat_Id__c"] == f"chat:{conv.tenant_id}:{conv.chat_id}"
    assert result.activity is not None
    assert result.activity.object == "Case"
    assert result.person is not None
    assert result.person.object == "Contact"


async def test_support_mode_matches_existing_contacts(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    contact = org.add("Contact", LastName="Bloggs", Email="jo@x.com")
    harness.settings(mode="support")
    await harness.send(conversation(visitor={"email": "jo@x.com"}))
    assert [c["Id"] for c in org.all("Contact")] == [contact]


async def test_without_a_chat_id_field_the_subject_is_the_dedupe_key(harness: Harness) -> None:
    org = harness.salesforce.org("t1", schemas=standard_schemas(chat_id_field=False))
    conv = conversation(kind="offline_message", subject="Call me back")
    await harness.send(conv)
    [again] = await harness.send(conv)
    [task] = org.all("Task")
    assert task["Subject"] == f"Offline message {conv.chat_id}: Call me back"
    assert again.deduped


async def test_long_transcript_is_cut_and_attached_whole(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    transcript = "\n".join(f"[12:{i % 60:02d}] Jo: line {i}" for i in range(4000))
    conv = conversation(transcript=transcript)
    [result] = await harness.send(conv)
    [task] = org.all("Task")
    [lead] = org.all("Lead")
    assert len(task["Description"]) <= DESCRIPTION_LIMIT
    assert task["Description"].endswith(f"attached whole as transcript-{conv.chat_id}.txt]")
    [file] = org.all("ContentVersion")
    assert base64.b64decode(file["VersionData"]).decode() == transcript
    # The emulator's ContentVersion cannot be published on a Task: the file goes on the Lead.
    assert file["FirstPublishLocationId"] == lead["Id"]
    assert result.truncated_fields == ("Task.Description",)
    assert result.attachments_uploaded == 1


async def test_attachments_go_on_the_task_where_the_org_allows(harness: Harness) -> None:
    org = harness.salesforce.org("t1", schemas=standard_schemas(files_on_task=True))
    harness.fetcher.files["https://files.test/a/1"] = b"%PDF-1.4"
    conv = conversation(
        attachments=[
            {"name": "invoice.pdf", "url": "https://files.test/a/1"},
            {"name": "gone.png", "url": "https://files.test/a/404"},
        ]
    )
    [result] = await harness.send(conv)
    [file] = org.all("ContentVersion")
    [task] = org.all("Task")
    assert file["FirstPublishLocationId"] == task["Id"]
    assert file["PathOnClient"] == "invoice.pdf"
    assert result.attachments_uploaded == 1
    assert "gone.png: https://files.test/a/404" in task["Description"]


async def test_tenant_with_sync_off_is_reported_not_written(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    harness.settings(auto_sync=False)
    [result] = await harness.send(conversation())
    assert result.status == "ok"
    assert result.activity is None
    assert org.calls == 0


async def test_removed_tenant_is_dead_lettered(harness: Harness) -> None:
    harness.salesforce.org("t1")
    harness.store.tombstones.add("t1")
    [result] = await harness.send(conversation())
    assert result.status == "failed"
    assert result.error
    assert result.error.code == "tenant_removed"
    assert [d.reason for d in harness.dead()] == [DeadLetterReason.UNKNOWN_TENANT]
