"""A platform event to the one `Conversation` crm-sync writes, with its Kafka key.

Total for any event the contract accepts: every value that does not fit is cleaned,
cut (and recorded in `truncations`) or left out (and named in `invalid_fields`), never a
reason to lose the chat.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from pydantic import TypeAdapter

from chat_contracts.base import JsonScalar
from chat_contracts.chat import (
    SALESFORCE_LIMITS,
    Conversation,
    Truncation,
    clip_text,
)
from chat_contracts.chat_raw import (
    ChatEndedEvent,
    OfflineMessageSubmittedEvent,
    RawChatEvent,
    WebhookAgent,
    WebhookAttachment,
    WebhookChat,
    WebhookVisitor,
)
from chat_contracts.keys import key_for_conversation, raw_event_key
from ingest_service.domain.phone import to_e164
from ingest_service.domain.text import clean_line, split_name, strip_html, valid_email
from ingest_service.domain.times import as_utc, as_utc_or_none
from ingest_service.domain.transcript import render_transcript

# message_id of a conversation = uuid5(this, raw event key): a redelivered event yields
# a byte-identical conversation, which downstream can recognise.
CONVERSATION_ID_NAMESPACE: Final = uuid.UUID("5d1c7f0e-2f6b-4c55-9a43-3f1e0c9b7a21")
_NAMESPACE_BYTES: Final = CONVERSATION_ID_NAMESPACE.bytes
_CONVERSATION: Final[TypeAdapter[Conversation]] = TypeAdapter(Conversation)
_LIMIT = SALESFORCE_LIMITS


@dataclass(frozen=True, slots=True)
class Normalised:
    """A conversation ready to publish, and what normalisation had to leave out."""

    conversation: Conversation
    key: bytes
    value: bytes
    invalid_fields: tuple[str, ...] = ()


def normalise(raw: RawChatEvent, phone_region: str | None) -> Normalised:
    """The conversation of `raw`; phones without `+country` are read in `phone_region`."""
    payload = raw.payload
    cuts: list[Truncation] = []
    invalid: list[str] = []
    if isinstance(payload, ChatEndedEvent):
        fields = _chat(raw, payload, phone_region, cuts, invalid)
    else:
        fields = _offline(raw, payload, phone_region, cuts, invalid)
    # Built as plain data and validated once, the nested models with it: the contract's
    # own checks stay the last word on what is published.
    conversation = _CONVERSATION.validate_python(fields)
    return Normalised(
        conversation=conversation,
        key=key_for_conversation(conversation),
        value=_CONVERSATION.dump_json(conversation),
        invalid_fields=tuple(invalid),
    )


def message_id(raw: RawChatEvent) -> str:
    """`uuid5(CONVERSATION_ID_NAMESPACE, raw event key)` as text, built from the SHA-1
    directly: `uuid.uuid5` spends more on its UUID object than on the hash."""
    key = raw_event_key(raw.tenant_id, raw.event_id)
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + key, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _chat(
    raw: RawChatEvent,
    event: ChatEndedEvent,
    region: str | None,
    cuts: list[Truncation],
    invalid: list[str],
) -> dict[str, Any]:
    chat = event.chat
    visitor = _visitor(chat.visitor, region, cuts, invalid)
    agent = _agent(chat.agent, invalid)
    visitor_name = clean_line(chat.visitor.name)
    return dict(
        message_id=message_id(raw),
        tenant_id=raw.tenant_id,
        occurred_at=as_utc(chat.ended_at or event.occurred_at),
        kind="chat",
        event_id=event.event_id,
        chat_id=chat.id,
        visitor=visitor,
        agent=agent,
        started_at=as_utc_or_none(chat.started_at),
        ended_at=as_utc_or_none(chat.ended_at),
        transcript=render_transcript(
            chat.messages,
            visitor_name=visitor_name,
            agent_name=agent["name"] if agent else None,
        ),
        notes=(strip_html(chat.notes) or None) if chat.notes else None,
        custom_fields=_texts(chat.custom_fields),
        custom_variables=_texts(chat.custom_variables),
        request_page=(chat.request_page or "").strip() or None,
        attachments=_attachments(chat.attachments),
        **_metrics(chat),
        truncations=tuple(cuts),
    )


def _metrics(chat: WebhookChat) -> dict[str, Any]:
    """Rating, wait, duration, department and tags of an ended chat."""
    duration = chat.duration_s
    if duration is None and chat.started_at is not None and chat.ended_at is not None:
        length = (as_utc(chat.ended_at) - as_utc(chat.started_at)).total_seconds()
        duration = length if length >= 0 else None
    rating = chat.rating
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)
    return dict(
        rating=rating,
        rating_comment=(strip_html(chat.rating_comment) or None) if chat.rating_comment else None,
        wait_s=round(chat.wait_s) if chat.wait_s is not None else None,
        duration_s=round(duration) if duration is not None else None,
        department=clean_line(chat.department),
        tags=tuple(dict.fromkeys(t for tag in chat.tags if (t := clean_line(tag)))),
    )


def _offline(
    raw: RawChatEvent,
    event: OfflineMessageSubmittedEvent,
    region: str | None,
    cuts: list[Truncation],
    invalid: list[str],
) -> dict[str, Any]:
    message = event.message
    visitor = _visitor(message.visitor, region, cuts, invalid)
    return dict(
        message_id=message_id(raw),
        tenant_id=raw.tenant_id,
        occurred_at=as_utc(message.submitted_at or event.occurred_at),
        kind="offline_message",
        event_id=event.event_id,
        chat_id=message.id,
        subject=_clip("subject", clean_line(message.subject), cuts),
        visitor=visitor,
        ended_at=as_utc_or_none(message.submitted_at),
        transcript=strip_html(message.content),
        custom_fields=_texts(message.custom_fields),
        attachments=_attachments(message.attachments),
        truncations=tuple(cuts),
    )


def _visitor(
    visitor: WebhookVisitor, region: str | None, cuts: list[Truncation], invalid: list[str]
) -> dict[str, Any]:
    first, last = split_name(visitor.name)
    email = valid_email(visitor.email)
    if email is None and visitor.email and visitor.email.strip():
        invalid.append("visitor.email")
    phone_raw = clean_line(visitor.phone)
    phone_e164 = to_e164(phone_raw, region) if phone_raw else None
    if phone_raw and phone_e164 is None:
        invalid.append("visitor.phone")
    return dict(
        visitor_id=clean_line(visitor.id),
        first_name=_clip("visitor.first_name", first, cuts),
        last_name=_clip("visitor.last_name", last, cuts),
        email=email,
        phone_e164=phone_e164,
        phone_raw=_clip("visitor.phone_raw", phone_raw, cuts),
        company=_clip("visitor.company", clean_line(visitor.company), cuts),
    )


def _agent(agent: WebhookAgent | None, invalid: list[str]) -> dict[str, Any] | None:
    if agent is None:
        return None
    email = valid_email(agent.email)
    if email is None and agent.email and agent.email.strip():
        invalid.append("agent.email")
    name = clean_line(agent.name)
    if email is None and name is None:
        return None
    return {"email": email, "name": name}


def _clip(field: str, text: str | None, cuts: list[Truncation]) -> str | None:
    if text is None:
        return None
    clipped, cut = clip_text(field, text, _LIMIT[field])
    if cut is not None:
        cuts.append(cut)
    return clipped


def _texts(values: dict[str, JsonScalar]) -> dict[str, str]:
    return {name: _text(value) for name, value in values.items()}


def _text(value: JsonScalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    return str(value)


def _attachments(attachments: Iterable[WebhookAttachment]) -> list[dict[str, Any]]:
    # Without a URL there is nothing crm-sync could attach.
    return [
        {
            "name": clean_line(a.name) or "attachment",
            "url": url,
            "size": a.size,
            "content_type": clean_line(a.content_type),
        }
        for a in attachments
        if (url := a.url.strip())
    ]
