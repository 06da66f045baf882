"""Manual create over `crm.commands.v1`, asked as the agent console would."""

from __future__ import annotations

import uuid

from pydantic import TypeAdapter
from simple_salesforce.format import format_soql

from chat_contracts.crm import (
    CommandAcceptedReply,
    CreateRecordCommand,
    CrmCommandErrorReply,
    CrmCommandReply,
    RecordCreatedReply,
)
from chat_contracts.keys import tenant_key
from chat_contracts.settings import TenantSettings
from chat_runtime.request_reply import Reply, RequestReplyClient
from tests.integration.crm_sync.conftest import Crm
from tests.integration.crm_sync.support import chat
from tests.reply_safety import probe

REPLY: TypeAdapter[RecordCreatedReply | CommandAcceptedReply | CrmCommandErrorReply] = TypeAdapter(
    CrmCommandReply
)


async def test_manual_create_answers_with_the_record_id(crm: Crm) -> None:
    tenant, org = crm.tenant()
    conv = chat(tenant, visitor={"company": "Initech"})
    async with RequestReplyClient(crm.bootstrap, name="agent-console") as client:

        async def ask(
            command: CreateRecordCommand,
        ) -> RecordCreatedReply | CommandAcceptedReply | CrmCommandErrorReply:
            reply = await client.request(
                crm.topics.commands, command, key=tenant_key(tenant), timeout=20
            )
            return reply.parse(REPLY)

        lead = await ask(CreateRecordCommand(tenant_id=tenant, object="Lead", conversation=conv))
        assert isinstance(lead, RecordCreatedReply)
        assert (lead.status, lead.object) == ("created", "Lead")
        task_command = CreateRecordCommand(
            tenant_id=tenant, object="Task", conversation=conv, related_record_id=lead.record_id
        )
        task = await ask(task_command)
        again = await ask(task_command)
        missing = await ask(
            CreateRecordCommand(tenant_id=tenant, object="Lead", fields={"LastName": "X"})
        )

    assert isinstance(task, RecordCreatedReply)
    assert isinstance(again, RecordCreatedReply)
    assert (task.status, again.status, again.record_id) == ("created", "existing", task.record_id)
    assert isinstance(missing, CrmCommandErrorReply)
    assert (missing.code, missing.fields) == ("required_fields_missing", ("Company",))
    sf = crm.emulator.client(org)
    soql = format_soql("SELECT WhoId, Chat_Id__c FROM Task WHERE Id = {}", task.record_id)
    record = sf.query(soql)["records"][0]
    assert (record["WhoId"], record["Chat_Id__c"]) == (
        lead.record_id,
        f"chat:{conv.tenant_id}:{conv.chat_id}",
    )


async def test_replies_never_go_to_data_topics_nor_wait_behind_a_vanished_caller(
    crm: Crm,
) -> None:
    tenant, _ = crm.tenant()
    command = CreateRecordCommand(
        tenant_id=tenant,
        object="Lead",
        fields={"LastName": "Safe", "Company": "Replies", "Email": "safe@replies.example"},
    )

    def check(reply: Reply) -> None:
        created = reply.parse(REPLY)
        # The misdirected command was not executed; the one whose caller vanished created
        # the Lead, and this one, run after it (one tenant's commands run in turn), found it.
        assert isinstance(created, RecordCreatedReply)
        assert created.status == "existing"

    await probe(
        crm.bootstrap,
        crm.topics.commands,
        command.model_dump_json().encode(),
        tenant_key(tenant),
        check,
    )


async def test_manual_create_walks_the_owner_chain_and_saves_past_an_alert_rule(
    crm: Crm,
) -> None:
    # The configured fallback owner has left (inactive): the connected user owns it, as in
    # the sync. A standard duplicate rule fires on a namesake of the same company: the
    # agent asked for a new record, which an alert rule allows.
    tenant, org = crm.tenant(
        users=[
            {"username": f"admin@{uuid.uuid4().hex[:8]}.example"},
            {"username": f"left@{uuid.uuid4().hex[:8]}.example", "active": False},
        ],
        records={"Lead": [{"FirstName": "Ada", "LastName": "Byron", "Company": "Engines"}]},
    )
    await crm.configure(TenantSettings(tenant_id=tenant, owner_fallback_user_id=org.users[1]["id"]))
    conv = chat(tenant, visitor={"first_name": "Ada", "last_name": "Byron", "company": "Engines"})
    async with RequestReplyClient(crm.bootstrap, name="agent-console") as client:
        reply = await client.request(
            crm.topics.commands,
            CreateRecordCommand(tenant_id=tenant, object="Lead", conversation=conv),
            key=tenant_key(tenant),
            timeout=20,
        )
    created = reply.parse(REPLY)
    assert isinstance(created, RecordCreatedReply), created
    assert created.status == "created"
    sf = crm.emulator.client(org)
    soql = format_soql("SELECT OwnerId FROM Lead WHERE Id = {}", created.record_id)
    assert sf.query(soql)["records"][0]["OwnerId"] == org.user_id
    assert sf.query("SELECT COUNT() FROM Lead WHERE LastName = 'Byron'")["totalSize"] == 2
