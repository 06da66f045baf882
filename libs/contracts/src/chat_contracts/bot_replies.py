"""Replies to `bot.actions.v1` requests, told apart by `status` (and, for `ok`, by `action`).

Published by bot-actions on the request's `reply_to` topic with its `correlation_id`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from chat_contracts.base import (
    ContractModel,
    Envelope,
    FieldName,
    JsonScalar,
    NonEmptyStr,
    SalesforceId,
    SObjectName,
)
from chat_contracts.rr import ErrorReply


class BotErrorCode(StrEnum):
    """Why a bot action failed (issue 7); includes the generic request/reply codes."""

    VALIDATION = "validation"
    REQUIRED_FIELDS_MISSING = "required_fields_missing"
    UNKNOWN_OBJECT = "unknown_object"
    UNKNOWN_FIELD = "unknown_field"
    NOT_CONNECTED = "not_connected"
    SALESFORCE_ERROR = "salesforce_error"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    INTERNAL = "internal"


class _BotReply(Envelope):
    schema_version: Literal[1] = 1


class RecordWrittenReply(_BotReply):
    """create_record succeeded: a new record, or the existing one updated."""

    status: Literal["created", "updated"] = Field(examples=["created"])
    record_id: SalesforceId = Field(examples=["00Q5g00000AbCdEFGH"])


class RecordFoundReply(_BotReply):
    """find_record / find_record_by_soql matched; the first record's saved fields."""

    status: Literal["found"] = "found"
    record_id: SalesforceId | None = Field(
        None, description="The record's Id when the query selected it.", examples=["0035g00000XyZ"]
    )
    variables: dict[str, JsonScalar] = Field(
        default_factory=dict,
        description="Bot variable to the value saved in it.",
        examples=[{"company": "Bloggs Ltd"}],
    )


class RecordNotFoundReply(_BotReply):
    """find_record / find_record_by_soql / lookup_visitor matched nothing."""

    status: Literal["not_found"] = "not_found"


class SObjectSummary(ContractModel):
    """One object of the org, as the flow builder's drop-down lists it."""

    name: SObjectName = Field(examples=["Lead"])
    label: str = Field(examples=["Lead"])
    createable: bool
    queryable: bool
    updateable: bool


class SObjectFieldInfo(ContractModel):
    """One field of an object; `required` = createable, not nillable, not defaulted."""

    name: FieldName = Field(examples=["LastName"])
    label: str = Field(examples=["Last Name"])
    type: str = Field(examples=["string"])
    length: int | None = Field(None, ge=0, examples=[80])
    required: bool
    createable: bool
    updateable: bool
    picklist_values: tuple[str, ...] = ()


class ObjectListReply(_BotReply):
    """list_objects answer."""

    status: Literal["ok"] = "ok"
    action: Literal["list_objects"] = "list_objects"
    objects: tuple[SObjectSummary, ...]


class ObjectDescriptionReply(_BotReply):
    """describe_object answer."""

    status: Literal["ok"] = "ok"
    action: Literal["describe_object"] = "describe_object"
    object: SObjectName = Field(examples=["Lead"])
    fields: tuple[SObjectFieldInfo, ...]


class VisitorFoundReply(_BotReply):
    """lookup_visitor answer: the matched person (a Contact before a Lead)."""

    status: Literal["ok"] = "ok"
    action: Literal["lookup_visitor"] = "lookup_visitor"
    object: Literal["Contact", "Lead"] = Field(examples=["Contact"])
    record_id: SalesforceId = Field(examples=["0035g00000XyZabCDE"])
    name: str | None = Field(None, examples=["Hank Scorpio"])
    owner_id: SalesforceId | None = Field(None, examples=["0055g00000AbCdEFGH"])
    owner_name: str | None = Field(None, examples=["Agent Smith"])
    url: NonEmptyStr = Field(
        description="Opens the record in Lightning Experience.",
        examples=["https://acme.my.salesforce.com/lightning/r/Contact/0035g00000XyZabCDE/view"],
    )
    open_cases: int | None = Field(
        None, ge=0, description="The Contact's open Cases (None for a Lead).", examples=[1]
    )
    open_tasks: int = Field(ge=0, description="The person's open Tasks.", examples=[0])


class BotErrorReply(ErrorReply):
    """Any failed bot action; `fields` names e.g. the missing required fields."""

    code: BotErrorCode = Field(examples=["required_fields_missing"])
    message: NonEmptyStr = Field(examples=["Lead needs LastName, Company"])


BotOkReply: TypeAlias = Annotated[
    ObjectListReply | ObjectDescriptionReply | VisitorFoundReply, Field(discriminator="action")
]
BotActionReply: TypeAlias = Annotated[
    RecordWrittenReply | RecordFoundReply | RecordNotFoundReply | BotOkReply | BotErrorReply,
    Field(discriminator="status"),
]
"""A reply to a `bot.actions.v1` request."""
