"""Key functions: exact bytes, identity precedence, and what shares a partition."""

from __future__ import annotations

import pytest

from chat_contracts import Conversation, ConversationVisitor, RawChatEvent, SyncResult, SyncRetry
from chat_contracts.keys import (
    conversation_key,
    key_for_conversation,
    key_for_raw_event,
    key_for_result,
    key_for_retry,
    raw_event_key,
    result_key,
    tenant_key,
    tenant_of_key,
    visitor_identity,
)
from tests.unit.contracts.samples import OFFLINE_BODY, all_samples, conversation


def _conv(**visitor: str) -> Conversation:
    return Conversation(
        tenant_id="10000",
        kind="chat",
        event_id="e",
        chat_id="c-9",
        visitor=ConversationVisitor(**visitor),
    )


def test_email_wins_and_is_lower_cased_and_trimmed() -> None:
    key = conversation_key(
        "10000", kind="chat", chat_id="c1", email=" Jo@Example.COM ", phone_e164="+441"
    )
    assert key == b"10000|email:jo@example.com"


def test_phone_then_visitor_id_then_the_chat_itself() -> None:
    common = {"kind": "chat", "chat_id": "c1"}
    assert conversation_key("t1", **common, email="  ", phone_e164="+4420") == b"t1|phone:+4420"  # type: ignore[arg-type]
    assert conversation_key("t1", **common, visitor_id="v-7") == b"t1|visitor:v-7"  # type: ignore[arg-type]
    assert (
        conversation_key("t1", kind="offline_message", chat_id="m-1") == b"t1|offline_message:m-1"
    )


def test_two_chats_of_one_visitor_share_a_key_across_spellings() -> None:
    first = _conv(email="Jo@Example.com")
    second = _conv(email="jo@example.COM", phone_e164="+442079460018")
    assert key_for_conversation(first) == key_for_conversation(second)
    assert key_for_conversation(_conv(email="other@example.com")) != key_for_conversation(first)


def test_keys_of_other_tenants_differ() -> None:
    assert tenant_key("10000") == b"10000"
    assert conversation_key("1", kind="chat", chat_id="c", email="a@b.co") != conversation_key(
        "2", kind="chat", chat_id="c", email="a@b.co"
    )


def test_visitor_identity_precedence() -> None:
    assert visitor_identity(email="A@B.co", visitor_id="v") == ("email", "a@b.co")
    assert visitor_identity(phone_e164=" +44 ", visitor_id="v") == ("phone", "+44")
    assert visitor_identity() is None


def test_raw_result_and_retry_keys() -> None:
    raw = RawChatEvent.model_validate(
        {"tenant_id": "10000", "source": "webhook", "payload": OFFLINE_BODY}
    )
    assert key_for_raw_event(raw) == raw_event_key("10000", "evt-2") == b"10000|event:evt-2"
    assert result_key("10000", "chat", "c1") == b"10000|chat:c1"
    result = next(s for s in all_samples() if isinstance(s, SyncResult))
    assert key_for_result(result) == b"10000|chat:1001"
    retry = next(s for s in all_samples() if isinstance(s, SyncRetry))
    assert key_for_retry(retry) == key_for_conversation(conversation())


@pytest.mark.parametrize("bad", ["", "a|b", "has space"])
def test_keys_refuse_unsafe_tenant_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="tenant id"):
        tenant_key(bad)
    with pytest.raises(ValueError, match="tenant id"):
        result_key(bad, "chat", "c")


def test_tenant_of_key_reads_every_format() -> None:
    for key in (b"10000", b"10000|email:a@b.co", b"10000|event:e|x"):
        assert tenant_of_key(key) == "10000"


def test_a_key_that_is_not_utf8_names_no_tenant_and_raises_nothing() -> None:
    assert tenant_of_key(b"\xff\xfe|\x80") == "\ufffd\ufffd"
