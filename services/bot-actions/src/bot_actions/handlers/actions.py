"""The use cases: one handler per bot action, each load -> domain -> Salesforce -> reply.

`BotActions.handle` is the single entry: it never raises; a failure becomes a
`BotErrorReply` (an unexpected exception is logged and answered `internal`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot_actions.adapters.salesforce import SalesforcePort
from bot_actions.domain import drafts, lookup, queries, replies
from bot_actions.domain.errors import ActionError
from chat_contracts.bot import (
    CreateRecordRequest,
    DescribeObjectRequest,
    FindRecordBySoqlRequest,
    FindRecordRequest,
    ListObjectsRequest,
    LookupVisitorRequest,
)
from chat_contracts.bot_replies import (
    BotErrorCode,
    BotErrorReply,
    ObjectDescriptionReply,
    ObjectListReply,
    RecordFoundReply,
    RecordNotFoundReply,
    RecordWrittenReply,
    VisitorFoundReply,
)
from chat_runtime.logging import get_logger

log = get_logger(__name__)

BotRequest = (
    CreateRecordRequest
    | FindRecordRequest
    | FindRecordBySoqlRequest
    | ListObjectsRequest
    | DescribeObjectRequest
    | LookupVisitorRequest
)
BotReply = (
    RecordWrittenReply
    | RecordFoundReply
    | RecordNotFoundReply
    | ObjectListReply
    | ObjectDescriptionReply
    | VisitorFoundReply
    | BotErrorReply
)
FindReply = RecordFoundReply | RecordNotFoundReply


class BotActions:
    """The bot's Salesforce actions for any tenant."""

    def __init__(self, salesforce: SalesforcePort) -> None:
        self.sf = salesforce
        # One find-then-write at a time per matched value: a tenant's requests share one
        # partition, hence one process, so this makes update_if_exists race-free.
        self._matching: dict[tuple[str, ...], asyncio.Lock] = {}
        self._waiting: defaultdict[tuple[str, ...], int] = defaultdict(int)

    async def handle(self, request: BotRequest) -> BotReply:
        """The reply to `request`; never raises."""
        try:
            match request:
                case CreateRecordRequest():
                    return await self.create_record(request)
                case FindRecordRequest():
                    return await self.find_record(request)
                case FindRecordBySoqlRequest():
                    return await self.find_record_by_soql(request)
                case ListObjectsRequest():
                    return await self.list_objects(request)
                case DescribeObjectRequest():
                    return await self.describe_object(request)
                case LookupVisitorRequest():
                    return await self.lookup_visitor(request)
        except ActionError as exc:
            return exc.reply(request.tenant_id)
        except Exception:
            log.exception("bot action failed unexpectedly", action=request.action)
            return ActionError(BotErrorCode.INTERNAL, "unexpected error").reply(request.tenant_id)

    async def create_record(self, req: CreateRecordRequest) -> RecordWrittenReply:
        match = req.update_if_exists.match_field if req.update_if_exists else None
        paths = [*req.fields, *([match] if match else [])]
        schema = await self.sf.schema(req.tenant_id, req.object, expect_paths=paths)
        draft = drafts.draft_record(schema, req)
        find = drafts.match_query(schema, draft)
        if find is None:
            record_id = await self.sf.create(req.tenant_id, schema.name, draft.fields)
            return RecordWrittenReply(
                tenant_id=req.tenant_id, status="created", record_id=record_id
            )
        async with self._matching_lock(req.tenant_id, schema.name, draft):
            existing = replies.record_id(
                ((await self.sf.query(req.tenant_id, find)).get("records") or [{}])[0]
            )
            if existing is None:
                record_id = await self.sf.create(req.tenant_id, schema.name, draft.fields)
                return RecordWrittenReply(
                    tenant_id=req.tenant_id, status="created", record_id=record_id
                )
            fields = drafts.update_values(schema, draft)
            await self.sf.update(req.tenant_id, schema.name, existing, fields)
            return RecordWrittenReply(tenant_id=req.tenant_id, status="updated", record_id=existing)

    async def find_record(self, req: FindRecordRequest) -> FindReply:
        paths = [req.field, *req.save]
        schema = await self.sf.schema(req.tenant_id, req.object, expect_paths=paths)
        soql = queries.find_query(schema, req.field, req.value, req.variables, req.save)
        result = await self.sf.query(req.tenant_id, soql)
        return replies.found_reply(req.tenant_id, result, req.save)

    async def find_record_by_soql(self, req: FindRecordBySoqlRequest) -> FindReply:
        query = queries.user_query(req.soql, req.variables, req.save)
        schema = await self.sf.schema(req.tenant_id, query.object)
        result = await self.sf.query(req.tenant_id, queries.first_row(query, schema))
        return replies.found_reply(req.tenant_id, result, req.save)

    async def list_objects(self, req: ListObjectsRequest) -> ObjectListReply:
        return replies.object_list_reply(req.tenant_id, await self.sf.objects(req.tenant_id))

    async def describe_object(self, req: DescribeObjectRequest) -> ObjectDescriptionReply:
        schema = await self.sf.schema(req.tenant_id, req.object)
        return replies.description_reply(req.tenant_id, schema)

    async def lookup_visitor(self, req: LookupVisitorRequest) -> VisitorFoundReply | FindReply:
        who = lookup.visitor(req)
        if who is None:
            return RecordNotFoundReply(tenant_id=req.tenant_id)
        body = lookup.composite_request(who, self.sf.api_version)
        answer = await self.sf.composite(req.tenant_id, body)
        try:
            found = lookup.reply(req.tenant_id, answer, await self.sf.instance_url(req.tenant_id))
        except lookup.LookupFailed as exc:
            message = f"Salesforce: {exc.error_code}: {exc.message}"
            raise ActionError(BotErrorCode.SALESFORCE_ERROR, message) from None
        return found

    @asynccontextmanager
    async def _matching_lock(
        self, tenant_id: str, sobject: str, draft: drafts.Draft
    ) -> AsyncIterator[None]:
        key = (tenant_id, sobject, draft.match_field or "", str(draft.match_value).lower())
        self._waiting[key] += 1
        try:
            async with self._matching.setdefault(key, asyncio.Lock()):
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else holds or waits: forget the lock
                del self._waiting[key], self._matching[key]
