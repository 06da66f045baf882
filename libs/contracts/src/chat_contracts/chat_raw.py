"""`chat.raw.v1`: the chat platform's webhook events as received, in an envelope we own.

The payload models describe the public webhook contract (Comm100-style `chat.ended` and
`offline_message.submitted`). A third party produces them, so they ignore unknown keys and
keep values as sent: validation of emails and phones, name splitting and UTC conversion are
ingest's normalisation, not this module's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, model_validator

from chat_contracts.base import (
    Envelope,
    InboundModel,
    JsonScalar,
    NonEmptyStr,
    UtcDatetime,
    utc_now,
)


class WebhookAgent(InboundModel):
    """The agent who handled the chat, as the platform names them."""

    email: str | None = Field(None, description="Agent's email.", examples=["ann@acme.test"])
    name: str | None = Field(None, description="Agent's display name.", examples=["Ann Agent"])


class WebhookVisitor(InboundModel):
    """The visitor as the platform knows them; every field may be missing."""

    id: str | None = Field(None, description="Platform's visitor id.", examples=["v-8842"])
    name: str | None = Field(None, description="Full name as typed.", examples=["Jo Bloggs"])
    email: str | None = Field(None, description="Email as typed.", examples=[" Jo@Example.COM "])
    phone: str | None = Field(None, description="Phone as typed.", examples=["020 7946 0018"])
    company: str | None = Field(None, description="Company as typed.", examples=["Bloggs Ltd"])


class WebhookMessage(InboundModel):
    """One line of the chat transcript."""

    sender: Literal["visitor", "agent", "bot"] = Field(
        alias="from", description="Who wrote the line.", examples=["visitor"]
    )
    name: str | None = Field(None, description="Display name of the writer.", examples=["Jo"])
    text: str = Field("", description="The text; may contain HTML.", examples=["Hi, a quote?"])
    sent_at: datetime | None = Field(
        None, description="When it was sent.", examples=["2024-05-01T11:58:00Z"]
    )


class WebhookAttachment(InboundModel):
    """A file the visitor or agent shared."""

    name: str = Field(description="File name.", examples=["invoice.pdf"])
    url: str = Field(description="Where to fetch it.", examples=["https://files.test/a/1"])
    size: int | None = Field(None, ge=0, description="Size in bytes.", examples=[48213])
    content_type: str | None = Field(None, description="MIME type.", examples=["application/pdf"])


_CUSTOM = "Name to value, as configured on the platform."


class WebhookChat(InboundModel):
    """The `chat` object of a `chat.ended` event."""

    id: NonEmptyStr = Field(description="Platform's chat id.", examples=["c-1001"])
    started_at: datetime | None = Field(None, examples=["2024-05-01T11:55:00Z"])
    ended_at: datetime | None = Field(None, examples=["2024-05-01T12:00:00Z"])
    agent: WebhookAgent | None = None
    visitor: WebhookVisitor = Field(default_factory=WebhookVisitor)
    messages: tuple[WebhookMessage, ...] = ()
    notes: str | None = Field(None, description="Agent's notes.", examples=["Wants a demo"])
    custom_fields: dict[str, JsonScalar] = Field(default_factory=dict, description=_CUSTOM)
    custom_variables: dict[str, JsonScalar] = Field(default_factory=dict, description=_CUSTOM)
    request_page: str | None = Field(None, examples=["https://acme.test/pricing"])
    attachments: tuple[WebhookAttachment, ...] = ()
    rating: int | float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="The visitor's rating of the chat (CSAT), on the platform's scale.",
        examples=[5],
    )
    rating_comment: str | None = Field(
        None, description="The visitor's comment with the rating.", examples=["Quick and kind"]
    )
    wait_s: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="Seconds the visitor waited for an agent.",
        examples=[42],
    )
    duration_s: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="Seconds the chat lasted; without it, the time from start to end.",
        examples=[300],
    )
    department: str | None = Field(
        None, description="The department the chat was routed to.", examples=["Sales"]
    )
    tags: tuple[str, ...] = Field((), description="Tags on the chat.", examples=[["pricing"]])


class WebhookOfflineMessage(InboundModel):
    """The `message` object of an `offline_message.submitted` event."""

    id: NonEmptyStr = Field(description="Platform's offline message id.", examples=["m-77"])
    visitor: WebhookVisitor = Field(default_factory=WebhookVisitor)
    subject: str | None = Field(None, examples=["Call me back"])
    content: str = Field("", description="The message body; may contain HTML.")
    submitted_at: datetime | None = Field(None, examples=["2024-05-01T12:00:00Z"])
    custom_fields: dict[str, JsonScalar] = Field(default_factory=dict, description=_CUSTOM)
    attachments: tuple[WebhookAttachment, ...] = ()


class _WebhookEvent(InboundModel):
    event_id: NonEmptyStr = Field(
        description="Platform's id of this delivery; the same on webhook retries.",
        examples=["evt-5f2a"],
    )
    site_id: NonEmptyStr = Field(
        description="Platform's site id: our tenant id.", examples=["10000"]
    )
    occurred_at: datetime = Field(examples=["2024-05-01T12:00:00Z"])


class ChatEndedEvent(_WebhookEvent):
    """Webhook body sent when a chat ends."""

    event: Literal["chat.ended"] = Field(examples=["chat.ended"])
    chat: WebhookChat


class OfflineMessageSubmittedEvent(_WebhookEvent):
    """Webhook body sent when a visitor leaves an offline message."""

    event: Literal["offline_message.submitted"] = Field(examples=["offline_message.submitted"])
    message: WebhookOfflineMessage


ChatPlatformEvent: TypeAlias = Annotated[
    ChatEndedEvent | OfflineMessageSubmittedEvent, Field(discriminator="event")
]
"""A webhook body, told apart by its `event` key."""


class RawChatEvent(Envelope):
    """`chat.raw.v1` value: one platform event as received, before normalisation.

    `tenant_id` is the event's `site_id`; the key is `keys.raw_event_key`.
    """

    schema_version: Literal[1] = 1
    source: Literal["webhook", "topic"] = Field(
        description="How it arrived: our signed webhook endpoint, or a direct producer.",
        examples=["webhook"],
    )
    received_at: UtcDatetime = Field(
        default_factory=utc_now,
        description="When we accepted it.",
        examples=["2024-05-01T12:00:01Z"],
    )
    payload: ChatPlatformEvent = Field(description="The event body, as the platform sent it.")

    @model_validator(mode="after")
    def _tenant_is_site(self) -> RawChatEvent:
        if self.payload.site_id != self.tenant_id:
            raise ValueError("tenant_id must equal the event's site_id")
        return self

    @property
    def event_id(self) -> str:
        """The platform's event id (the dedupe key for webhook retries)."""
        return self.payload.event_id
