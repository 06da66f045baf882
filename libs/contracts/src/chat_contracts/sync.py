"""What crm-sync reports: `crm.sync.results.v1` per conversation, `crm.sync.retry.v1` parks."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from chat_contracts.base import (
    ContractModel,
    Envelope,
    LowerEmail,
    NonEmptyStr,
    SalesforceId,
    UtcDatetime,
)
from chat_contracts.chat import Conversation, ConversationKind
from chat_contracts.settings import ActivityObject, Mode, PersonObject


class SyncError(ContractModel):
    """Why a conversation was not (yet) written."""

    code: NonEmptyStr = Field(
        description="Our reason, snake_case.", examples=["required_field_missing"]
    )
    message: str = Field("", description="Detail, free of secrets.")
    salesforce_error_code: str | None = Field(None, examples=["REQUIRED_FIELD_MISSING"])
    fields: tuple[str, ...] = Field((), examples=[["LastName"]])


class PersonRecord(ContractModel):
    """The Lead or Contact a conversation was matched to or created as."""

    object: PersonObject = Field(examples=["Lead"])
    record_id: SalesforceId = Field(examples=["00Q5g00000AbCdEFGH"])
    outcome: Literal["matched", "created", "updated"] = Field(
        description="Matched and left alone, created, or matched and updated by the policy.",
        examples=["created"],
    )
    converted_from_lead_id: SalesforceId | None = Field(
        None, description="Set when a converted Lead was followed to its Contact."
    )


class ActivityRecord(ContractModel):
    """The Task or Case written for the conversation."""

    object: ActivityObject = Field(examples=["Task"])
    record_id: SalesforceId = Field(examples=["00T5g00000AbCdEFGH"])
    outcome: Literal["created", "existing"] = Field(
        description="Created now, or found from an earlier delivery (dedupe).",
        examples=["created"],
    )


class SourcePosition(ContractModel):
    """Where a record sits in Kafka."""

    topic: NonEmptyStr = Field(examples=["chat.conversations.v1"])
    partition: int = Field(ge=0, examples=[3])
    offset: int = Field(ge=0, examples=[1842])


class SyncResult(Envelope):
    """`crm.sync.results.v1` value: how one conversation ended. Key: `keys.result_key`."""

    schema_version: Literal[1] = 1
    chat_id: NonEmptyStr = Field(examples=["c-1001"])
    kind: ConversationKind = Field(examples=["chat"])
    source_message_id: str | None = Field(
        None, description="message_id of the conversation this reports on."
    )
    mode: Mode = Field(examples=["sales"])
    status: Literal["ok", "failed", "parked"] = Field(
        description="Written; given up (see crm.dlq.v1); or parked on the retry topic.",
        examples=["ok"],
    )
    person: PersonRecord | None = None
    activity: ActivityRecord | None = None
    owner_id: SalesforceId | None = Field(None, examples=["0055g00000AbCdEAAV"])
    owner_source: Literal["agent", "connected_user", "configured_user"] | None = Field(
        None, description="Owner by the agent's email, else the connecting or the set user."
    )
    deduped: bool = Field(False, description="True when nothing new was created (redelivery).")
    attachments_uploaded: int = Field(0, ge=0)
    truncated_fields: tuple[str, ...] = Field(
        (), description="Salesforce fields that were cut.", examples=[["Task.Description"]]
    )
    dropped_fields: tuple[str, ...] = Field(
        (),
        description="Mapped values left out because their Salesforce field cannot hold them "
        "(not a number, not a value of a restricted picklist); the chat is written without.",
        examples=[["Lead.Tier__c"]],
    )
    api_calls: float = Field(
        ge=0,
        description="This conversation's share of the batch's Salesforce API calls.",
        examples=[0.02],
    )
    batch_size: int = Field(1, ge=1, description="Conversations in the same batch.")
    error: SyncError | None = None
    visitor_email: LowerEmail | None = Field(
        None, description="The visitor's email, when the chat has one (history search)."
    )
    ended_at: UtcDatetime | None = Field(
        None, description="When the chat ended (or the offline message was left)."
    )
    retry_at: UtcDatetime | None = Field(
        None, description="Parked: the next attempt's not-before time."
    )
    source: SourcePosition | None = Field(
        None,
        description="The `chat.conversations.v1` record the chat came from, when known: "
        "what a resync command reads back.",
    )

    @model_validator(mode="after")
    def _error_when_not_ok(self) -> SyncResult:
        if self.status != "ok" and self.error is None:
            raise ValueError(f"status {self.status!r} needs an error")
        return self


class RetryReason(StrEnum):
    """Why a conversation was parked instead of written."""

    NOT_CONNECTED = "not_connected"
    REVOKED = "revoked"
    API_BUDGET = "api_budget"
    SALESFORCE_UNAVAILABLE = "salesforce_unavailable"
    AUTH_UNAVAILABLE = "auth_unavailable"
    """The auth service did not answer for the tenant's token (an outage, like Salesforce's:
    retried for as long, never dead-lettered as a bug)."""
    LOCK_CONTENTION = "lock_contention"
    INTERNAL = "internal"


class SyncRetry(Envelope):
    """`crm.sync.retry.v1` value: a parked conversation. Key: `keys.conversation_key`."""

    schema_version: Literal[1] = 1
    conversation: Conversation
    attempt: int = Field(ge=1, description="Attempts made so far.", examples=[1])
    not_before: UtcDatetime = Field(
        description="Do not retry before this time.", examples=["2024-05-01T12:05:00Z"]
    )
    reason: RetryReason = Field(examples=["salesforce_unavailable"])
    last_error: SyncError
    first_failed_at: UtcDatetime = Field(examples=["2024-05-01T12:00:02Z"])

    @model_validator(mode="after")
    def _same_tenant(self) -> SyncRetry:
        if self.conversation.tenant_id != self.tenant_id:
            raise ValueError("conversation belongs to another tenant")
        return self
