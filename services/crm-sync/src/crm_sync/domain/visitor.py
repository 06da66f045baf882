"""Facts about a conversation that every rule needs: its dedupe key, its subject, the
visitor's identity, name and phone in the forms Salesforce holds them."""

from __future__ import annotations

import hashlib

import phonenumbers

from chat_contracts.chat import SALESFORCE_LIMITS, Conversation
from chat_salesforce import phones

SUBJECT_LIMIT = SALESFORCE_LIMITS["subject"]
KIND_LABEL = {"chat": "Chat", "offline_message": "Offline message"}
KEY_PREFIX = {"chat": "chat", "offline_message": "offline"}
UNNAMED = "Chat visitor"


def chat_key(conversation: Conversation, limit: int = 64) -> str:
    """The value of the Task/Case chat-id field: `chat:<tenant>:<id>` or
    `offline:<tenant>:<id>`.

    The tenant is part of the key because two tenants (two chat accounts) may write to one
    org, and their chat ids come from different systems. Past `limit` characters the tenant
    and id are replaced by their SHA-256, so the key stays unique.
    """
    prefix = KEY_PREFIX[conversation.kind]
    key = f"{prefix}:{conversation.tenant_id}:{conversation.chat_id}"
    if len(key) <= limit:
        return key
    scoped = f"{conversation.tenant_id}\x00{conversation.chat_id}"
    return f"{prefix}:{hashlib.sha256(scoped.encode()).hexdigest()}"[:limit]


def legacy_chat_key(conversation: Conversation, limit: int = 64) -> str:
    """The key versions before the tenant was in it wrote: `chat:<id>` (`offline:<id>`).

    Still looked up (setting `legacy_chat_keys`), so a chat synced before the upgrade and
    replayed after it is not written twice.
    """
    prefix = KEY_PREFIX[conversation.kind]
    key = f"{prefix}:{conversation.chat_id}"
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(conversation.chat_id.encode()).hexdigest()
    return f"{prefix}:{digest}"[:limit]


def subject(conversation: Conversation) -> str:
    """Task/Case Subject: names the chat id (the seed's table), then the offline subject."""
    text = f"{KIND_LABEL[conversation.kind]} {conversation.chat_id}"
    if conversation.subject:
        text = f"{text}: {conversation.subject}"
    return text[:SUBJECT_LIMIT]


def identity(conversation: Conversation, match_by_phone: bool) -> tuple[str, str] | None:
    """What the visitor is matched on: ("email", address), ("phone", E.164), or None."""
    visitor = conversation.visitor
    if visitor.email:
        return "email", visitor.email
    if match_by_phone and visitor.phone_e164:
        return "phone", visitor.phone_e164
    return None


def names(conversation: Conversation) -> tuple[str | None, str]:
    """(FirstName, LastName) for a new person. LastName is required, so a visitor who gave
    only a first name has it as last name, else the email's local part stands in."""
    visitor = conversation.visitor
    if visitor.last_name:
        return visitor.first_name, visitor.last_name
    if visitor.first_name:
        return None, visitor.first_name
    if visitor.email:
        return None, visitor.email.split("@", 1)[0][:80]
    return None, UNNAMED


def phone(conversation: Conversation) -> str | None:
    """The visitor's phone as written to Salesforce: E.164 when it parsed, else as typed."""
    return conversation.visitor.phone_e164 or conversation.visitor.phone_raw


def phone_variants(e164: str) -> tuple[str, ...]:
    """The spellings a stored Phone commonly has for one number (SOQL `=` cannot
    normalise): E.164, international and national format (`chat_salesforce.phones`, the
    rule bot-actions' lookup shares)."""
    return phones.phone_variants(e164)


def normalise_phone(raw: str | None, region: str) -> str | None:
    """A stored phone in E.164, or None when it does not parse."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
