"""`crm.commands.v1` (request/reply): manual create, as the agent console offers it.

The agent asks crm-sync to create a Lead, Contact, Case or Task, from a chat (the
conversation travels with the command: crm-sync keeps no chat store) or from explicit
fields, and gets the record id back on its reply topic.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, model_validator

from chat_contracts.base import Envelope, FieldName, JsonScalar, LowerEmail, SalesforceId
from chat_contracts.chat import Conversation
from chat_contracts.rr import ErrorReply
from chat_contracts.settings import CrmObject


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


CrmCommand: TypeAlias = CreateRecordCommand
"""A `crm.commands.v1` value (one kind today; `command` is the discriminator to come)."""


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
    RecordCreatedReply | CrmCommandErrorReply, Field(discriminator="status")
]
"""A reply to a `crm.commands.v1` request."""
