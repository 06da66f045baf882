"""Manual create, as the agent console offers it: one Lead, Contact, Case or Task from a
chat or from explicit fields, answered with the record id (`crm.commands.v1`).

At most one Task/Case per chat id and one Lead/Contact per email: a repeated command (or
one for a visitor Salesforce already has) answers `existing` with the record's id.
"""

from __future__ import annotations

from typing import Any

from chat_contracts.crm import (
    CreateRecordCommand,
    CrmCommandErrorCode,
    CrmCommandErrorReply,
    RecordCreatedReply,
)
from chat_contracts.settings import TenantSettings
from chat_contracts.sync import RetryReason
from chat_runtime.request_reply.responder import Request
from crm_sync.adapters.ports import (
    CallRejected,
    SalesforcePort,
    SalesforceUnavailable,
    SettingsStore,
    TenantUnavailable,
)
from crm_sync.domain import owner
from crm_sync.domain.chat_records import activity_record, dedupe_keys, person_record
from crm_sync.domain.errors import Action, classify
from crm_sync.domain.matching import by_email, select_person
from crm_sync.domain.plan import PERSONS, USERS
from crm_sync.domain.salesforce import InQuery, NewRecord, Reads, RecordError, WriteStep
from crm_sync.domain.schema import OrgSchema
from crm_sync.domain.tenant_state import TenantCaches
from crm_sync.domain.work import ChatWork, TenantContext

Reply = RecordCreatedReply | CrmCommandErrorReply
_MODE = {"Lead": "sales", "Task": "sales", "Contact": "support", "Case": "support"}
_OBJECTS = ("Lead", "Contact", "Task", "Case")
_PARKED_CODES = {
    RetryReason.NOT_CONNECTED: CrmCommandErrorCode.NOT_CONNECTED,
    RetryReason.REVOKED: CrmCommandErrorCode.REVOKED,
    RetryReason.API_BUDGET: CrmCommandErrorCode.API_LIMIT_EXCEEDED,
}
_RECORD_CODES = {
    "REQUIRED_FIELD_MISSING": CrmCommandErrorCode.REQUIRED_FIELDS_MISSING,
    "INVALID_FIELD": CrmCommandErrorCode.UNKNOWN_FIELD,
    "INVALID_FIELD_FOR_INSERT_UPDATE": CrmCommandErrorCode.UNKNOWN_FIELD,
}


def _error(tenant: str, code: CrmCommandErrorCode, message: str, fields: Any = None) -> Reply:
    return CrmCommandErrorReply(tenant_id=tenant, code=code, message=message, fields=fields)


class CreateRecord:
    """The `crm.commands.v1` responder."""

    def __init__(
        self,
        port: SalesforcePort,
        store: SettingsStore,
        caches: TenantCaches,
        *,
        chat_id_field: str,
        legacy_chat_keys: bool = True,
    ) -> None:
        self.port, self.store, self.caches = port, store, caches
        self.chat_id_field = chat_id_field
        self.legacy_chat_keys = legacy_chat_keys

    async def __call__(self, request: Request[CreateRecordCommand]) -> Reply:
        """The responder's handler: the request arrives validated and within its deadline
        (`chat_runtime.request_reply.responder`)."""
        command, tenant = request.body, request.tenant_id
        try:
            return await self._create(command)
        except TenantUnavailable as exc:
            code = _PARKED_CODES.get(exc.reason, CrmCommandErrorCode.INTERNAL)
            return _error(tenant, code, exc.message)
        except SalesforceUnavailable as exc:
            return _error(tenant, CrmCommandErrorCode.SALESFORCE_ERROR, f"Salesforce: {exc}"[:2000])
        except CallRejected as exc:
            code = _RECORD_CODES.get(exc.code, CrmCommandErrorCode.SALESFORCE_ERROR)
            return _error(tenant, code, exc.message, exc.fields or None)

    async def _create(self, command: CreateRecordCommand) -> Reply:
        tenant, sobject = command.tenant_id, command.object
        base = self.store.get(tenant) or TenantSettings(tenant_id=tenant)
        settings = base.model_copy(update={"mode": _MODE[sobject]})
        connection = await self.port.connection(tenant)
        ctx = TenantContext(
            settings,
            await self._schema(tenant),
            connection.user_id,
            {},
            self.chat_id_field,
            self.legacy_chat_keys,
        )
        work = ChatWork(command.conversation) if command.conversation is not None else None
        reads = await self._read(command, ctx, work)
        found = self._existing(command, ctx, work, reads)
        if found is not None:
            return self._reply(command, "existing", found)
        owners = self._owners(command, ctx, work)
        record = self._record(command, ctx, work, reads, owners[0])
        allow = False
        while True:
            results, _ = await self.port.write(
                tenant,
                [WriteStep("r", "create", (record,), allow_duplicates=allow)],
                assignment_rules=ctx.settings.use_assignment_rules,
            )
            outcome = results["r"].results[0] if results["r"].results else None
            if outcome is not None and outcome.ok and outcome.id is not None:
                return self._reply(command, "created", outcome.id)
            error = (
                (outcome.errors[0] if outcome else None)
                or results["r"].error
                or RecordError("UNKNOWN")
            )
            action = classify(error, owner_set="OwnerId" not in command.fields)
            if action is Action.LINK_DUPLICATE:
                return self._reply(command, "existing", error.duplicate_ids[0])
            if action is Action.FIND_DUPLICATE and not allow:
                # The agent asked for a new record: an alert-level rule lets it be saved.
                allow = True
            elif action is Action.DROP_OWNER and record.fields.get("OwnerId") in owners[:-1]:
                # An inactive owner: the next in the chain (fallback, then connected user).
                at = owners.index(str(record.fields["OwnerId"]))
                record = NewRecord(record.sobject, {**record.fields, "OwnerId": owners[at + 1]})
            else:
                code = _RECORD_CODES.get(error.code, CrmCommandErrorCode.SALESFORCE_ERROR)
                return _error(tenant, code, error.message or error.code, error.fields or None)

    async def _schema(self, tenant: str) -> OrgSchema:
        key = (tenant, "commands")
        schema = self.caches.schemas.get(key)
        if schema is None:
            objects, _ = await self.port.describe(tenant, _OBJECTS)
            schema = OrgSchema({k.lower(): v for k, v in objects.items()})
            self.caches.schemas.put(key, schema)
        return schema

    def _email(self, command: CreateRecordCommand) -> str | None:
        email = command.fields.get("Email")
        if isinstance(email, str) and email:
            return email.strip().lower()
        conversation = command.conversation
        return conversation.visitor.email if conversation is not None else None

    async def _read(
        self, command: CreateRecordCommand, ctx: TenantContext, work: ChatWork | None
    ) -> Reads:
        queries: dict[str, InQuery] = {}
        email = self._email(command)
        person_object = "Contact" if command.object in ("Contact", "Case") else "Lead"
        fields = ("Id", "Email", "LastModifiedDate") + (
            ("IsConverted", "ConvertedContactId") if person_object == "Lead" else ()
        )
        if email and (command.object in ("Lead", "Contact") or command.related_record_id is None):
            queries[PERSONS] = InQuery(person_object, fields, "Email", (email,))
        if work is not None and command.object in ("Task", "Case"):
            queries["activities"] = InQuery(
                ctx.activity_object, ("Id", ctx.key_field), ctx.key_field, dedupe_keys(work, ctx)
            )
        asker = command.requested_by or (owner.agent_email(work.conversation) if work else None)
        cached = self.caches.users.get((command.tenant_id, asker)) if asker else None
        if asker and cached is None:
            queries[USERS] = InQuery(
                "User", ("Id", "Email"), "Email", (asker,), (("IsActive", True),)
            )
        if cached is not None and asker:
            ctx.users[asker] = cached
        if not queries:
            return Reads()
        reads, _ = await self.port.read(command.tenant_id, queries)
        if asker and USERS in queries:
            user = owner.users_by_email(reads.get(USERS), [asker])[asker] or ""
            self.caches.users.put((command.tenant_id, asker), user)
            ctx.users[asker] = user
        return reads

    def _existing(
        self, command: CreateRecordCommand, ctx: TenantContext, work: ChatWork | None, reads: Reads
    ) -> str | None:
        if command.object in ("Task", "Case"):
            rows = reads.get("activities")
            return str(rows[0]["Id"]) if rows else None
        email = self._email(command)
        rows = by_email(reads.get(PERSONS)).get(email or "", [])
        best = max(rows, key=lambda r: str(r.get("LastModifiedDate")), default=None)
        return str(best["Id"]) if best is not None else None

    def _owners(
        self, command: CreateRecordCommand, ctx: TenantContext, work: ChatWork | None
    ) -> list[str]:
        """The owner chain, as the sync walks it: the asking agent's User, the tenant's
        fallback user, the connected user."""
        asker = command.requested_by or (owner.agent_email(work.conversation) if work else None)
        chain = (ctx.users.get(asker or ""), ctx.settings.owner_fallback_user_id)
        return list(dict.fromkeys([*(o for o in chain if o), ctx.connected_user_id]))

    def _record(
        self,
        command: CreateRecordCommand,
        ctx: TenantContext,
        work: ChatWork | None,
        reads: Reads,
        owner_id: str,
    ) -> NewRecord:
        fields: dict[str, Any] = {}
        if work is not None and command.object in ("Lead", "Contact"):
            fields.update(person_record(work, ctx, owner_id).fields)
        elif work is not None:
            person = command.related_record_id
            if person is None:
                rows = by_email(reads.get(PERSONS)).get(self._email(command) or "", [])
                match = select_person(rows, ctx.person_object)
                person = match.id if match is not None else None
            fields.update(activity_record(work, ctx, person, owner_id).fields)
        elif command.related_record_id is not None:
            fields[ctx.person_link] = command.related_record_id
        fields.setdefault("OwnerId", owner_id)
        fields.update(command.fields)
        return NewRecord(command.object, fields)

    def _reply(self, command: CreateRecordCommand, status: str, record_id: str) -> Reply:
        return RecordCreatedReply(
            tenant_id=command.tenant_id,
            status=status,
            object=command.object,
            record_id=record_id,
            chat_id=command.effective_chat_id,
        )
