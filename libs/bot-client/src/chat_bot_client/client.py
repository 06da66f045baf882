"""`BotActionsClient`: the typed SDK the bot runtime calls bot-actions with.

    async with RequestReplyClient(bootstrap, name="bot-runtime") as rr:
        bot = BotActionsClient(rr)
        found = await bot.find_record(
            "10000", "Contact", "Email", "{!Visitor.Email}",
            variables={"Visitor.Email": "jo@example.com"}, save={"Id": "contact_id"},
        )
        if found.status == "found":
            print(found.variables["contact_id"])

Each method sends one request on `bot.actions.v1` (keyed by tenant) and returns the
success reply; an error reply raises `BotActionFailed` (its `code`: `validation`,
`required_fields_missing`, `not_connected`, ...), no reply in time raises
`chat_runtime.request_reply.RequestTimeout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import TypeAdapter

from chat_contracts.base import JsonScalar
from chat_contracts.bot import (
    BotActionRequest,
    CreateRecordRequest,
    DescribeObjectRequest,
    FindRecordBySoqlRequest,
    FindRecordRequest,
    ListObjectsRequest,
    LookupVisitorRequest,
    UpdateIfExists,
)
from chat_contracts.bot_replies import (
    BotActionReply,
    BotErrorCode,
    BotErrorReply,
    ObjectDescriptionReply,
    ObjectListReply,
    RecordFoundReply,
    RecordNotFoundReply,
    RecordWrittenReply,
    VisitorFoundReply,
)
from chat_contracts.keys import tenant_key
from chat_contracts.topics import BOT_ACTIONS
from chat_runtime.request_reply.protocol import Requester

__all__ = ["BotActionFailed", "BotActionsClient"]

Reply = BotActionReply
BotRequest = BotActionRequest
_REPLY: TypeAdapter[Reply] = TypeAdapter(BotActionReply)
T = TypeVar("T")


class BotActionFailed(Exception):
    """bot-actions answered with an error reply."""

    def __init__(self, reply: BotErrorReply) -> None:
        self.reply = reply
        self.code: BotErrorCode = reply.code
        self.fields = reply.fields or ()
        super().__init__(f"{reply.code.value}: {reply.message}")


class BotActionsClient:
    """One method per bot action, over a started request/reply client."""

    def __init__(
        self, client: Requester, *, topic: str = BOT_ACTIONS.name, timeout: float = 10.0
    ) -> None:
        self._client = client
        self._topic = topic
        self._timeout = timeout

    async def send(self, request: BotRequest, *, timeout: float | None = None) -> Reply:  # noqa: ASYNC109
        """Send any request; returns whatever reply came, error replies included."""
        reply = await self._client.request(
            self._topic,
            request,
            key=tenant_key(request.tenant_id),
            timeout=self._timeout if timeout is None else timeout,
        )
        return reply.parse(_REPLY)

    async def create_record(
        self,
        tenant_id: str,
        sobject: str,
        fields: Mapping[str, JsonScalar],
        *,
        variables: Mapping[str, JsonScalar] | None = None,
        update_if_exists: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> RecordWrittenReply:
        """Create a record (or update the one whose `update_if_exists` field matches)."""
        request = CreateRecordRequest(
            tenant_id=tenant_id,
            object=sobject,
            fields=dict(fields),
            variables=dict(variables or {}),
            update_if_exists=UpdateIfExists(match_field=update_if_exists)
            if update_if_exists
            else None,
        )
        return _expect(await self.send(request, timeout=timeout), RecordWrittenReply)

    async def find_record(
        self,
        tenant_id: str,
        sobject: str,
        field: str,
        value: str,
        *,
        variables: Mapping[str, JsonScalar] | None = None,
        save: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> RecordFoundReply | RecordNotFoundReply:
        """The first record whose `field` equals `value`, its `save` fields as variables."""
        request = FindRecordRequest(
            tenant_id=tenant_id,
            object=sobject,
            field=field,
            value=value,
            variables=dict(variables or {}),
            save=dict(save or {}),
        )
        reply = await self.send(request, timeout=timeout)
        return _found(reply)

    async def find_record_by_soql(
        self,
        tenant_id: str,
        soql: str,
        *,
        variables: Mapping[str, JsonScalar] | None = None,
        save: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> RecordFoundReply | RecordNotFoundReply:
        """The first record of a SOQL query (placeholders escaped by bot-actions)."""
        request = FindRecordBySoqlRequest(
            tenant_id=tenant_id, soql=soql, variables=dict(variables or {}), save=dict(save or {})
        )
        reply = await self.send(request, timeout=timeout)
        return _found(reply)

    async def list_objects(
        self,
        tenant_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> ObjectListReply:
        """The org's objects."""
        reply = await self.send(ListObjectsRequest(tenant_id=tenant_id), timeout=timeout)
        return _expect(reply, ObjectListReply)

    async def describe_object(
        self,
        tenant_id: str,
        sobject: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> ObjectDescriptionReply:
        """One object's fields, the required ones marked."""
        request = DescribeObjectRequest(tenant_id=tenant_id, object=sobject)
        return _expect(await self.send(request, timeout=timeout), ObjectDescriptionReply)

    async def lookup_visitor(
        self,
        tenant_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        phone_region: str | None = None,
        variables: Mapping[str, JsonScalar] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> VisitorFoundReply | RecordNotFoundReply:
        """The Contact (else the unconverted Lead) with this email or phone: its owner, a
        link to open it and its open Cases and Tasks; `not_found` when nobody matches."""
        request = LookupVisitorRequest(
            tenant_id=tenant_id,
            email=email,
            phone=phone,
            phone_region=phone_region,
            variables=dict(variables or {}),
        )
        reply = await self.send(request, timeout=timeout)
        if isinstance(reply, RecordNotFoundReply):
            return reply
        return _expect(reply, VisitorFoundReply)


def _expect(reply: Reply, wanted: type[T]) -> T:
    if isinstance(reply, BotErrorReply):
        raise BotActionFailed(reply)
    if not isinstance(reply, wanted):
        raise TypeError(f"unexpected reply {type(reply).__name__} to this action")
    return reply


def _found(reply: Reply) -> RecordFoundReply | RecordNotFoundReply:
    if isinstance(reply, RecordFoundReply | RecordNotFoundReply):
        return reply
    return _expect(reply, RecordFoundReply)
