"""The console's Kafka outputs: repair commands to crm-sync (request/reply on
`crm.commands.v1`) and audit events (`audit.events.v1`)."""

from __future__ import annotations

from chat_contracts.audit import AuditEvent
from chat_contracts.crm import (
    BackfillCommand,
    CommandAcceptedReply,
    CrmCommandErrorReply,
    RecordCreatedReply,
    ReplayDeadLettersCommand,
    ResyncChatCommand,
)
from chat_contracts.keys import tenant_key
from chat_contracts.registry import reply_adapter
from chat_contracts.topics import CRM_COMMANDS
from chat_runtime.kafka import ManagedProducer
from chat_runtime.request_reply import LazyRequestReplyClient

RepairCommand = ResyncChatCommand | ReplayDeadLettersCommand | BackfillCommand
_REPLY = reply_adapter(CRM_COMMANDS.name)


class CrmCommands:
    """Sends one repair command and waits for crm-sync's answer."""

    def __init__(self, client: LazyRequestReplyClient, topic: str, timeout_s: float) -> None:
        self.client, self.topic, self.timeout_s = client, topic, timeout_s

    async def send(self, command: RepairCommand) -> CommandAcceptedReply | CrmCommandErrorReply:
        reply = await self.client.request(
            self.topic, command, key=tenant_key(command.tenant_id), timeout=self.timeout_s
        )
        answer: CommandAcceptedReply | CrmCommandErrorReply | RecordCreatedReply = reply.parse(
            _REPLY
        )
        if isinstance(answer, RecordCreatedReply):  # not an answer to a repair
            raise ValueError("crm-sync answered a repair with a created record")
        return answer


class AuditLog:
    """Publishes the console's own admin actions."""

    def __init__(self, producer: ManagedProducer, topic: str) -> None:
        self.producer, self.topic = producer, topic

    async def record(self, event: AuditEvent) -> None:
        await self.producer.producer.send_and_wait(
            self.topic, event.model_dump_json().encode(), key=tenant_key(event.tenant_id)
        )
