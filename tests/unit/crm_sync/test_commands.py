"""Manual create over `crm.commands.v1`, through the runtime's responder."""

from __future__ import annotations

import time
from typing import Any

from chat_contracts.crm import CreateRecordCommand, CrmCommandErrorReply, RecordCreatedReply
from chat_contracts.registry import reply_adapter
from chat_contracts.sync import RetryReason
from chat_contracts.topics import CRM_COMMANDS
from chat_runtime.request_reply import ResponderMetrics
from chat_runtime.request_reply.responder import Responder, ResponderOptions
from crm_sync.adapters.ports import TenantUnavailable
from crm_sync.entrypoints.commands import REQUEST_TYPE
from crm_sync.handlers.create_record import CreateRecord
from tests.unit.crm_sync.conftest import Harness, conversation
from tests.unit.crm_sync.fakes import CONNECTED_USER


def responder(harness: Harness) -> CreateRecord:
    return CreateRecord(
        harness.salesforce, harness.store, harness.caches, chat_id_field="Chat_Id__c"
    )


class Replies:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def send(
        self, topic: str, correlation_id: str, key: bytes | None, body: bytes, bound_s: float
    ) -> None:
        self.bodies.append(body)


async def ask(harness: Harness, command: CreateRecordCommand | bytes, **headers: str) -> Any:
    """The reply to `command`, None when it got none."""
    body = command if isinstance(command, bytes) else command.model_dump_json().encode()
    replies = Replies()
    options = ResponderOptions(topic=CRM_COMMANDS.name, group_id="g")
    handler = Responder(options, REQUEST_TYPE, responder(harness), replies, ResponderMetrics())
    await handler.respond({"reply_to": "replies.console.1", **headers}, b"t1", body)
    return (
        reply_adapter(CRM_COMMANDS.name).validate_json(replies.bodies[0])
        if replies.bodies
        else None
    )


async def test_lead_from_a_chat_is_created_once(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    conv = conversation(visitor={"company": "Bloggs Ltd"})
    command = CreateRecordCommand(
        tenant_id="t1", object="Lead", conversation=conv, fields={"LeadSource": "Chat"}
    )
    first = await ask(harness, command)
    again = await ask(harness, command)
    assert isinstance(first, RecordCreatedReply)
    assert first.status == "created"
    assert isinstance(again, RecordCreatedReply)
    assert (again.status, again.record_id) == ("existing", first.record_id)
    [lead] = org.all("Lead")
    assert (lead["Company"], lead["LeadSource"], lead["OwnerId"]) == (
        "Bloggs Ltd",
        "Chat",
        CONNECTED_USER,
    )


async def test_task_under_the_given_record_is_created_once_per_chat(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    lead = org.add("Lead", LastName="B", Company="C")
    agent = org.add_user("ann@acme.test")
    command = CreateRecordCommand(
        tenant_id="t1", object="Task", conversation=conversation(), related_record_id=lead
    )
    first = await ask(harness, command)
    again = await ask(harness, command)
    assert isinstance(first, RecordCreatedReply)
    assert isinstance(again, RecordCreatedReply)
    assert again.status == "existing"
    [task] = org.all("Task")
    assert (task["WhoId"], task["OwnerId"], task["Id"]) == (lead, agent, first.record_id)


async def test_case_from_explicit_fields(harness: Harness) -> None:
    org = harness.salesforce.org("t1")
    command = CreateRecordCommand(
        tenant_id="t1", object="Case", fields={"Subject": "Broken", "Origin": "Chat"}
    )
    reply = await ask(harness, command)
    assert isinstance(reply, RecordCreatedReply)
    [case] = org.all("Case")
    assert case["Subject"] == "Broken"


async def test_errors_are_replies(harness: Harness) -> None:
    harness.salesforce.org("t1")
    missing = await ask(
        harness, CreateRecordCommand(tenant_id="t1", object="Lead", fields={"LastName": "B"})
    )
    assert isinstance(missing, CrmCommandErrorReply)
    assert (missing.code, missing.fields) == ("required_fields_missing", ("Company",))
    invalid = await ask(harness, b'{"tenant_id": "t1", "object": "Opportunity"}')
    assert isinstance(invalid, CrmCommandErrorReply)
    assert invalid.code == "validation"
    late = await ask(
        harness,
        CreateRecordCommand(tenant_id="t1", object="Case", fields={"Subject": "x"}),
        deadline=str(int(time.time() * 1000) - 1),
    )
    assert late is None  # the caller gave up: neither executed nor answered
    assert harness.salesforce.org("t1").all("Case") == []
    harness.salesforce.unavailable["t1"] = TenantUnavailable(RetryReason.REVOKED, "revoked")
    revoked = await ask(
        harness, CreateRecordCommand(tenant_id="t1", object="Case", fields={"Subject": "x"})
    )
    assert isinstance(revoked, CrmCommandErrorReply)
    assert revoked.code == "revoked"
