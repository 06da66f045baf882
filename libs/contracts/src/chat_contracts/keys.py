"""Kafka keys: they decide partitions, hence ordering. Every key is UTF-8 text.

Exact formats (`|` never occurs in a tenant id, see `base.TENANT_ID_PATTERN`):

- `chat.raw.v1` (`raw_event_key`): `{tenant_id}|event:{event_id}`
- `chat.conversations.v1` and `crm.sync.retry.v1` (`conversation_key`), the first that applies:
  `{tenant_id}|email:{email}`, `{tenant_id}|phone:{e164}`, `{tenant_id}|visitor:{visitor_id}`,
  `{tenant_id}|{kind}:{chat_id}` (kind is `chat` or `offline_message`)
- `crm.sync.results.v1` (`result_key`): `{tenant_id}|{kind}:{chat_id}`
- every other topic (DLQs, commands, bot actions, auth, settings) (`tenant_key`): `{tenant_id}`

The email is trimmed and lower-cased; the phone is E.164 as ingest produced it. Two chats of
one visitor therefore share a key, a partition and a consumer, which is what makes "find or
create the Lead" race-free without locks. A visitor with no identity at all is keyed by
the chat itself: nothing needs ordering with it.
"""

from __future__ import annotations

import re

from chat_contracts.base import TENANT_ID_PATTERN, normalise_email
from chat_contracts.chat import Conversation, ConversationKind
from chat_contracts.chat_raw import RawChatEvent
from chat_contracts.sync import SyncResult, SyncRetry

SEPARATOR = "|"
_TENANT_RE = re.compile(TENANT_ID_PATTERN)


def _checked(tenant_id: str) -> str:
    if not _TENANT_RE.fullmatch(tenant_id):
        raise ValueError(f"invalid tenant id for a key: {tenant_id!r}")
    return tenant_id


def _join(tenant_id: str, kind: str, value: str) -> bytes:
    return f"{_checked(tenant_id)}{SEPARATOR}{kind}:{value}".encode()


def tenant_key(tenant_id: str) -> bytes:
    """Key of tenant-keyed topics: the tenant id itself."""
    return _checked(tenant_id).encode()


def visitor_identity(
    *,
    email: str | None = None,
    phone_e164: str | None = None,
    visitor_id: str | None = None,
) -> tuple[str, str] | None:
    """The visitor's identity as (kind, value): email, else phone, else visitor id."""
    if email is not None and (value := normalise_email(email)):
        return "email", value
    if phone_e164 is not None and (value := phone_e164.strip()):
        return "phone", value
    if visitor_id is not None and (value := visitor_id.strip()):
        return "visitor", value
    return None


def conversation_key(
    tenant_id: str,
    *,
    kind: ConversationKind,
    chat_id: str,
    email: str | None = None,
    phone_e164: str | None = None,
    visitor_id: str | None = None,
) -> bytes:
    """Key of `chat.conversations.v1` and `crm.sync.retry.v1`: tenant + visitor identity."""
    identity = visitor_identity(email=email, phone_e164=phone_e164, visitor_id=visitor_id)
    if identity is None:
        return _join(tenant_id, kind, chat_id)
    return _join(tenant_id, *identity)


def key_for_conversation(conversation: Conversation) -> bytes:
    """`conversation_key` of a `Conversation`."""
    visitor = conversation.visitor
    return conversation_key(
        conversation.tenant_id,
        kind=conversation.kind,
        chat_id=conversation.chat_id,
        email=visitor.email,
        phone_e164=visitor.phone_e164,
        visitor_id=visitor.visitor_id,
    )


def raw_event_key(tenant_id: str, event_id: str) -> bytes:
    """Key of `chat.raw.v1`: tenant + the platform's event id."""
    return _join(tenant_id, "event", event_id)


def key_for_raw_event(event: RawChatEvent) -> bytes:
    """`raw_event_key` of a `RawChatEvent`."""
    return raw_event_key(event.tenant_id, event.event_id)


def result_key(tenant_id: str, kind: ConversationKind, chat_id: str) -> bytes:
    """Key of `crm.sync.results.v1`: tenant + the conversation's kind and chat id."""
    return _join(tenant_id, kind, chat_id)


def key_for_result(result: SyncResult) -> bytes:
    """`result_key` of a `SyncResult`."""
    return result_key(result.tenant_id, result.kind, result.chat_id)


def key_for_retry(retry: SyncRetry) -> bytes:
    """A parked conversation keeps its conversation key, so it stays in visitor order."""
    return key_for_conversation(retry.conversation)


def tenant_of_key(key: bytes) -> str:
    """The tenant id a key of any of the formats above starts with. Any producer may send
    any bytes as a key: one that is not UTF-8 gives a tenant id no tenant has (its bytes
    replaced by U+FFFD), never an exception in a consumer's loop."""
    return key.decode("utf-8", "replace").split(SEPARATOR, 1)[0]
