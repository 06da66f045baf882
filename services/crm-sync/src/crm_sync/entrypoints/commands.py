"""`crm.commands.v1`: manual create requests, answered by the runtime's responder
(`chat_runtime.request_reply.consumer`), which calls `handlers.create_record` per request.

Requests of one tenant run one after another (`serial_by_tenant`): two commands for one
visitor must not both find nothing and both create. A reply topic that is gone, or a
`reply_to` outside `replies.`, holds nothing up and receives nothing.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from chat_contracts.crm import CreateRecordCommand
from chat_contracts.registry import value_adapter
from chat_contracts.topics import CRM_COMMANDS
from chat_runtime.request_reply.responder import ResponderOptions
from crm_sync.config import Settings

REQUEST_TYPE: TypeAdapter[CreateRecordCommand] = value_adapter(CRM_COMMANDS.name)


def command_options(settings: Settings) -> ResponderOptions:
    """How crm-sync answers `crm.commands.v1`."""
    return ResponderOptions(
        topic=settings.commands_topic,
        group_id=f"{settings.group_id}.commands",
        default_deadline_s=settings.command_deadline_s,
        max_in_flight=settings.command_max_in_flight,
        serial_by_tenant=True,
    )
