"""`chat.conversations.v1`: one normalised conversation per ended chat or offline message.

ingest builds it (email lower-cased, phone in E.164, names split, HTML stripped, times in
UTC, transcript rendered once); crm-sync writes it to Salesforce. Every visitor field that
Salesforce receives carries Salesforce's length limit as `maxLength` (see
`SALESFORCE_LIMITS`): ingest cuts longer values with `clip_text` and lists each cut in
`truncations`, so crm-sync and the results know what was lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from pydantic import Field

from chat_contracts.base import (
    ContractModel,
    E164Phone,
    Envelope,
    LowerEmail,
    NonEmptyStr,
    UtcDatetime,
)

SALESFORCE_LIMITS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "visitor.first_name": 40,  # Lead/Contact.FirstName
        "visitor.last_name": 80,  # Lead/Contact.LastName
        "visitor.email": 80,  # Lead/Contact.Email
        "visitor.phone_raw": 40,  # Lead/Contact.Phone
        "visitor.company": 255,  # Lead.Company
        "subject": 255,  # Task/Case.Subject
    }
)
"""Salesforce's standard length of each field a conversation's value lands in."""
_LIMIT = SALESFORCE_LIMITS

DESCRIPTION_LIMIT: Final = 32_000
"""Task.Description / Case.Description length. Not enforced on `transcript`: crm-sync cuts
the field and attaches the whole transcript as a file (issue 6)."""

ConversationKind: TypeAlias = Literal["chat", "offline_message"]


class Truncation(ContractModel):
    """One value that was cut to fit its Salesforce field."""

    field: NonEmptyStr = Field(
        description="Dotted path of the field in this message, or `Object.Field`.",
        examples=["visitor.company"],
    )
    limit: int = Field(ge=0, description="Salesforce's maximum length.", examples=[255])
    original_length: int = Field(ge=0, description="Length before cutting.", examples=[312])


def clip_text(field: str, text: str, limit: int) -> tuple[str, Truncation | None]:
    """Cut `text` to `limit` characters; return it with the `Truncation` to record, if any."""
    if len(text) <= limit:
        return text, None
    return text[:limit], Truncation(field=field, limit=limit, original_length=len(text))


class ConversationVisitor(ContractModel):
    """The visitor, normalised. Identity for keys: email, else phone, else visitor id."""

    visitor_id: str | None = Field(None, description="Platform's visitor id.", examples=["v-8842"])
    first_name: str | None = Field(None, max_length=_LIMIT["visitor.first_name"], examples=["Jo"])
    last_name: str | None = Field(
        None,
        max_length=_LIMIT["visitor.last_name"],
        description="A single-word name is a last name.",
        examples=["Bloggs"],
    )
    email: LowerEmail | None = Field(
        None, description="Trimmed, lower-cased, validated.", examples=["jo@example.com"]
    )
    phone_e164: E164Phone | None = Field(
        None, description="Phone in E.164, when it parsed.", examples=["+442079460018"]
    )
    phone_raw: str | None = Field(
        None,
        max_length=_LIMIT["visitor.phone_raw"],
        description="Phone as typed (kept when unparsable).",
        examples=["020 7946 0018"],
    )
    company: str | None = Field(None, max_length=_LIMIT["visitor.company"], examples=["Bloggs Ltd"])


class ConversationAgent(ContractModel):
    """The agent; crm-sync makes the Salesforce User with this email the owner."""

    email: LowerEmail | None = Field(None, examples=["ann@acme.test"])
    name: str | None = Field(None, examples=["Ann Agent"])


class Attachment(ContractModel):
    """A file shared in the conversation; crm-sync attaches it to the Task or Case."""

    name: NonEmptyStr = Field(examples=["invoice.pdf"])
    url: NonEmptyStr = Field(examples=["https://files.test/a/1"])
    size: int | None = Field(None, ge=0, description="Bytes.", examples=[48213])
    content_type: str | None = Field(None, examples=["application/pdf"])


class Conversation(Envelope):
    """`chat.conversations.v1` value (also carried by retries and manual commands).

    `occurred_at` is when the chat ended or the message was submitted. The key is
    `keys.conversation_key`. crm-sync dedupes by (`kind`, `chat_id`).
    """

    schema_version: Literal[1] = 1
    kind: ConversationKind = Field(
        description="An ended chat, or an offline message.", examples=["chat"]
    )
    event_id: NonEmptyStr = Field(
        description="The platform event this came from.", examples=["evt-5f2a"]
    )
    chat_id: NonEmptyStr = Field(
        description="Chat id, or the offline message's id; the Task/Case Subject names it.",
        examples=["c-1001"],
    )
    subject: str | None = Field(
        None,
        max_length=_LIMIT["subject"],
        description="The offline message's subject.",
        examples=["Call me back"],
    )
    visitor: ConversationVisitor = Field(default_factory=ConversationVisitor)
    agent: ConversationAgent | None = None
    started_at: UtcDatetime | None = Field(None, examples=["2024-05-01T11:55:00Z"])
    ended_at: UtcDatetime | None = Field(None, examples=["2024-05-01T12:00:00Z"])
    transcript: str = Field(
        "",
        description=(
            "Whole transcript (or offline message body) as plain text, rendered once. "
            f"Longer than {DESCRIPTION_LIMIT} characters it is cut in Salesforce and "
            "attached whole."
        ),
        examples=["[11:55] Jo: Hi, a quote?\n[11:56] Ann Agent: Sure."],
    )
    notes: str | None = Field(None, description="Agent's notes.", examples=["Wants a demo"])
    custom_fields: dict[str, str] = Field(
        default_factory=dict, description="Platform custom fields, values as text."
    )
    custom_variables: dict[str, str] = Field(
        default_factory=dict, description="Platform custom variables, values as text."
    )
    request_page: str | None = Field(None, examples=["https://acme.test/pricing"])
    attachments: tuple[Attachment, ...] = ()
    rating: int | float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="The visitor's rating (CSAT), on the platform's scale; whole: an integer.",
        examples=[5],
    )
    rating_comment: str | None = Field(
        None, description="The visitor's comment with the rating.", examples=["Quick and kind"]
    )
    wait_s: int | None = Field(
        None, ge=0, description="Whole seconds the visitor waited for an agent.", examples=[42]
    )
    duration_s: int | None = Field(
        None,
        ge=0,
        description="Whole seconds the chat lasted (the platform's, else end minus start).",
        examples=[300],
    )
    department: str | None = Field(
        None, description="The department the chat was routed to.", examples=["Sales"]
    )
    tags: tuple[str, ...] = Field(
        (), description="Tags on the chat: trimmed, each once.", examples=[["pricing", "demo"]]
    )
    truncations: tuple[Truncation, ...] = Field(
        (), description="Values cut to fit their Salesforce field by ingest."
    )
