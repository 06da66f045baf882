"""`crm.commands.v1`: manual creates and the console's repairs, answered by the runtime's
responder (`chat_runtime.request_reply.consumer`), which calls `route`'s handler per request:
`handlers.create_record` for a manual create, `handlers.repairs` for the others.

Requests of one tenant run one after another (`serial_by_tenant`): two commands for one
visitor must not both find nothing and both create; a repair holds its tenant's turn while
it runs (other tenants' commands go on beside it). A reply topic that is gone, or a
`reply_to` outside `replies.`, holds nothing up and receives nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from chat_contracts.crm import CreateRecordCommand
from chat_contracts.registry import value_adapter
from chat_contracts.topics import CRM_COMMANDS
from chat_runtime.request_reply.responder import Handler, Request, ResponderOptions
from crm_sync.config import Settings

REQUEST_TYPE: TypeAdapter[Any] = value_adapter(CRM_COMMANDS.name)


def command_options(settings: Settings) -> ResponderOptions:
    """How crm-sync answers `crm.commands.v1`."""
    return ResponderOptions(
        topic=settings.commands_topic,
        group_id=f"{settings.group_id}.commands",
        default_deadline_s=settings.command_deadline_s,
        max_in_flight=settings.command_max_in_flight,
        serial_by_tenant=True,
    )


def route(create: Handler[Any], repairs: Handler[Any]) -> Handler[Any]:
    """One handler for the topic: a manual create to `create`, a repair to `repairs`."""

    async def handle(request: Request[Any]) -> BaseModel:
        if isinstance(request.body, CreateRecordCommand):
            return await create(request)
        return await repairs(request)

    return handle
