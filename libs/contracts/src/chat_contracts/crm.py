"""`crm.commands.v1` (request/reply): manual create, and the admin console's repairs.

The agent asks crm-sync to create a Lead, Contact, Case or Task, from a chat (the
conversation travels with the command: crm-sync keeps no chat store) or from explicit
fields, and gets the record id back on its reply topic.

The admin console (services/console) asks crm-sync to write chats again: one chat
(`resync_chat`), dead letters (`replay_dead_letters`) or every chat of a tenant that ended
in a time window (`backfill`). crm-sync stays the only writer to Salesforce: it reads the
chats back from Kafka (the conversation record, the dead letter) and puts them through the
automatic sync again, where chat-id dedupe makes every replay safe (a chat already written
creates nothing). The reply says how many chats were put back, not how they fared: their
outcomes arrive on `crm.sync.results.v1` like any other.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, model_validator

from chat_contracts.base import (
    Envelope,
    FieldName,
    JsonScalar,
    LowerEmail,
    NonEmptyStr,
    SalesforceId,
    UtcDatetime,
)
from chat_contracts.chat import Conversation
from chat_contracts.rr import ErrorReply
from chat_contracts.settings import CrmObject
from chat_contracts.sync import SourcePosition


class CreateRecordCommand(Envelope):
    """Create one record. Key: `keys.tenant_key`.

    With `conversation`, crm-sync builds the record as the automatic sync would, then
    applies `fields` on top; without it, `fields` is the whole record. A Task or Case is
    created at most once per chat id (a redelivered command answers `existing`).
    """

    schema_version: Literal[1] = 1
    command: Literal["create_record"] = "create_record"
    object: CrmObject = Field(examples=["Lead"])
    chat_id: str | None = Field(
        None, description="The chat the record is for (dedupe key).", examples=["c-1001"]
    )
    conversation: Conversation | None = Field(
        None, description="The chat's data, when creating from a chat."
    )
    fields: dict[FieldName, JsonScalar] = Field(
        default_factory=dict,
        description="Salesforce field to value; overrides what the conversation gives.",
        examples=[{"LastName": "Bloggs", "Company": "Bloggs Ltd"}],
    )
    related_record_id: SalesforceId | None = Field(
        None,
        description="Lead/Contact a Task or Case is written under (WhoId / ContactId).",
        examples=["00Q5g00000AbCdEFGH"],
    )
    requested_by: LowerEmail | None = Field(
        None, description="The agent asking; owner when a User has this email."
    )

    @model_validator(mode="after")
    def _has_content(self) -> CreateRecordCommand:
        if self.conversation is None and not self.fields:
            raise ValueError("give a conversation, fields, or both")
        if self.conversation is not None:
            if self.conversation.tenant_id != self.tenant_id:
                raise ValueError("conversation belongs to another tenant")
            if self.chat_id is not None and self.chat_id != self.conversation.chat_id:
                raise ValueError("chat_id differs from the conversation's")
        return self

    @property
    def effective_chat_id(self) -> str | None:
        """`chat_id`, else the conversation's chat id."""
        if self.chat_id is not None:
            return self.chat_id
        return self.conversation.chat_id if self.conversation is not None else None


MAX_REPLAY_LETTERS = 500
"""Dead letters one `replay_dead_letters` command may name (a console splits larger sets)."""


class _RepairCommand(Envelope):
    schema_version: Literal[1] = 1
    requested_by: NonEmptyStr = Field(
        description="Who asked (the console's admin or tenant link), for the audit trail.",
        examples=["admin"],
    )


class ResyncChatCommand(_RepairCommand):
    """Write one chat again. Key: `keys.tenant_key`.

    crm-sync reads the conversation at `source` (a `chat.conversations.v1` record, as the
    chat's `SyncResult.source` gives it) and, when it holds this tenant's chat `chat_id`,
    puts it through the sync again. Without `source`, it looks for the chat among the
    conversations whose records were written from `ended_at` on (up to one hour later).
    """

    command: Literal["resync_chat"] = "resync_chat"
    chat_id: NonEmptyStr = Field(examples=["c-1001"])
    source: SourcePosition | None = None
    ended_at: UtcDatetime | None = Field(None, examples=["2024-05-01T12:00:00Z"])

    @model_validator(mode="after")
    def _findable(self) -> ResyncChatCommand:
        if self.source is None and self.ended_at is None:
            raise ValueError("give the conversation's source position, its ended_at, or both")
        return self


class ReplayDeadLettersCommand(_RepairCommand):
    """Replay dead letters. Key: `keys.tenant_key`.

    Each position names a record of `crm.dlq.v1` or `chat.dlq.v1` for this tenant. A
    `crm.dlq.v1` letter's conversation goes through the sync again; a `chat.dlq.v1`
    letter's original event goes back to its source topic for ingest to accept or refuse
    again. A position that is not this tenant's dead letter is skipped and counted.
    """

    command: Literal["replay_dead_letters"] = "replay_dead_letters"
    letters: tuple[SourcePosition, ...] = Field(min_length=1, max_length=MAX_REPLAY_LETTERS)


class BackfillCommand(Envelope):
    """Write again every chat of the tenant that ended in [`start`, `end`). Key: tenant.

    crm-sync reads `chat.conversations.v1` from the first record written at `start` on
    (what Kafka's retention still holds) up to the end of each partition at the time of
    the command, and puts the tenant's chats that ended in the window through the sync
    again. Records that are themselves put back (a replay) are not read twice.
    """

    schema_version: Literal[1] = 1
    command: Literal["backfill"] = "backfill"
    requested_by: NonEmptyStr = Field(examples=["admin"])
    start: UtcDatetime = Field(examples=["2024-05-01T00:00:00Z"])
    end: UtcDatetime = Field(examples=["2024-05-02T00:00:00Z"])

    @model_validator(mode="after")
    def _ordered(self) -> BackfillCommand:
        if self.end <= self.start:
            raise ValueError("'end' must be after 'start'")
        return self


CrmCommand: TypeAlias = Annotated[
    CreateRecordCommand | ResyncChatCommand | ReplayDeadLettersCommand | BackfillCommand,
    Field(discriminator="command"),
]
"""A `crm.commands.v1` value; `command` says which."""


class CommandAcceptedReply(Envelope):
    """A repair command was carried out: this many chats (or events) were put back."""

    schema_version: Literal[1] = 1
    status: Literal["accepted"] = "accepted"
    command: Literal["resync_chat", "replay_dead_letters", "backfill"] = Field(
        examples=["backfill"]
    )
    requeued: int = Field(ge=0, description="Chats or events put back.", examples=[12])
    skipped: int = Field(
        0, ge=0, description="Positions or records that were not this tenant's.", examples=[0]
    )


class RecordCreatedReply(Envelope):
    """The record exists now: created by this command, or already there for this chat."""

    schema_version: Literal[1] = 1
    status: Literal["created", "existing"] = Field(examples=["created"])
    object: CrmObject = Field(examples=["Lead"])
    record_id: SalesforceId = Field(examples=["00Q5g00000AbCdEFGH"])
    chat_id: str | None = Field(None, examples=["c-1001"])


class CrmCommandErrorCode(StrEnum):
    """Why a manual create failed; includes the generic request/reply codes."""

    VALIDATION = "validation"
    NOT_CONNECTED = "not_connected"
    REVOKED = "revoked"
    REQUIRED_FIELDS_MISSING = "required_fields_missing"
    UNKNOWN_FIELD = "unknown_field"
    SALESFORCE_ERROR = "salesforce_error"
    API_LIMIT_EXCEEDED = "api_limit_exceeded"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL = "internal"


class CrmCommandErrorReply(ErrorReply):
    """A manual create that failed; `fields` names the fields at fault."""

    code: CrmCommandErrorCode = Field(examples=["required_fields_missing"])


CrmCommandReply: TypeAlias = Annotated[
    RecordCreatedReply | CommandAcceptedReply | CrmCommandErrorReply,
    Field(discriminator="status"),
]
"""A reply to a `crm.commands.v1` request."""
