"""A platform event to its conversation: every rule of the issue, on the two events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from chat_contracts import Conversation, RawChatEvent, Truncation
from ingest_service.domain.normalise import (
    CONVERSATION_ID_NAMESPACE,
    Normalised,
    message_id,
    normalise,
)
from tests.unit.ingest.factories import CHAT, OFFLINE, chat, raw_value

_RAW: TypeAdapter[RawChatEvent] = TypeAdapter(RawChatEvent)


def run(body: dict[str, Any], region: str = "US") -> Normalised:
    return normalise(_RAW.validate_json(raw_value(body)), region)


def test_an_ended_chat_becomes_one_normalised_conversation() -> None:
    result = run(CHAT)
    c = result.conversation
    assert (c.kind, c.event_id, c.chat_id, c.tenant_id) == ("chat", "evt-1", "c-1001", "10000")
    assert c.started_at == datetime(2024, 5, 1, 11, 55, tzinfo=UTC)  # +01:00 to UTC
    assert c.ended_at == c.occurred_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    v = c.visitor
    assert (v.visitor_id, v.first_name, v.last_name) == ("v-8842", "Jo", "Bloggs")
    assert (v.email, v.phone_e164, v.phone_raw) == (
        "jo@example.com",
        "+14155550132",
        "(415) 555-0132",
    )
    assert v.company == "Bloggs Ltd"
    assert c.agent is not None
    assert (c.agent.email, c.agent.name) == ("ann@acme.test", "Ann Agent")
    assert c.transcript == (
        "[11:55] Jo: Hi, a quote?\n[11:56] Ann Agent: Sure & welcome\nBot: Rate us!"
    )
    assert c.notes == "wants a demo"
    assert c.custom_fields == {"Plan": "pro", "Seats": "5", "Trial": "true", "Ref": ""}
    assert c.custom_variables == {"utm": "ads"}
    assert c.request_page == "https://acme.test/pricing"
    assert [a.name for a in c.attachments] == ["a.pdf"]  # the one without a URL is no file
    assert c.truncations == ()
    assert result.key == b"10000|email:jo@example.com"
    assert result.invalid_fields == ()


def test_the_published_bytes_are_the_conversation_as_consumers_parse_it() -> None:
    result = run(CHAT)
    assert Conversation.model_validate_json(result.value) == result.conversation


def test_an_offline_message_becomes_a_conversation_of_its_kind() -> None:
    result = run(OFFLINE)
    c = result.conversation
    assert (c.kind, c.chat_id, c.subject) == ("offline_message", "m-77", "Call me back")
    assert c.transcript == "Please call\nafter 5pm"
    assert c.occurred_at == c.ended_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert (c.visitor.first_name, c.visitor.last_name) == (None, "Cher")
    assert c.visitor.email is None  # "not-an-email" is left out ...
    assert result.invalid_fields == ("visitor.email",)  # ... and counted
    assert c.visitor.phone_e164 == "+442079460958"
    assert result.key == b"10000|phone:+442079460958"  # no email: the phone is the identity


def test_phones_are_read_in_the_tenants_region_and_kept_raw_when_unparsable() -> None:
    uk = chat()
    uk["chat"]["visitor"]["phone"] = "020 7946 0018"
    assert run(uk, region="GB").conversation.visitor.phone_e164 == "+442079460018"
    unparsable = run(uk, region="US")
    assert unparsable.conversation.visitor.phone_e164 is None
    assert unparsable.conversation.visitor.phone_raw == "020 7946 0018"
    assert "visitor.phone" in unparsable.invalid_fields


def test_values_longer_than_their_salesforce_field_are_cut_and_recorded() -> None:
    body = chat()
    body["chat"]["visitor"].update(company="C" * 300, name="F" * 50 + " " + "L" * 90)
    c = run(body).conversation
    assert c.visitor.company == "C" * 255
    assert c.visitor.first_name == "F" * 40
    assert c.visitor.last_name == "L" * 80
    assert set(c.truncations) == {
        Truncation(field="visitor.company", limit=255, original_length=300),
        Truncation(field="visitor.first_name", limit=40, original_length=50),
        Truncation(field="visitor.last_name", limit=80, original_length=90),
    }
    offline = {**OFFLINE, "message": {**OFFLINE["message"], "subject": "S" * 256}}
    assert run(offline).conversation.truncations == (
        Truncation(field="subject", limit=255, original_length=256),
    )


def test_times_without_an_offset_are_utc() -> None:
    body = chat(occurred_at="2024-05-01T12:00:00")
    body["chat"].update(ended_at=None, started_at="2024-05-01T11:00:00")
    c = run(body).conversation
    assert c.occurred_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert c.started_at == datetime(2024, 5, 1, 11, 0, tzinfo=UTC)


def test_the_key_falls_back_to_the_visitor_id_then_the_chat() -> None:
    body = chat()
    body["chat"]["visitor"] = {"id": "v-1"}
    assert run(body).key == b"10000|visitor:v-1"
    body["chat"]["visitor"] = {}
    assert run(body).key == b"10000|chat:c-1001"


def test_a_redelivered_event_yields_byte_identical_conversations() -> None:
    assert run(CHAT).value == run(CHAT).value
    assert run(CHAT).conversation.message_id != run(chat(event_id="evt-9")).conversation.message_id


def test_an_agent_without_email_or_name_is_no_agent() -> None:
    body = chat()
    body["chat"]["agent"] = {"email": "nope", "name": " "}
    result = run(body)
    assert result.conversation.agent is None
    assert result.invalid_fields == ("agent.email",)


def test_the_message_id_is_the_uuid5_of_the_raw_event_key() -> None:
    raw = _RAW.validate_json(raw_value(CHAT))
    expected = uuid.uuid5(CONVERSATION_ID_NAMESPACE, "10000|event:evt-1")
    assert message_id(raw) == str(expected)
    assert run(CHAT).conversation.message_id == expected


def test_chat_metrics_are_carried_cleaned() -> None:
    body = chat()
    body["chat"] |= {
        "rating": 4,
        "rating_comment": "Quick <b>and</b> kind",
        "wait_s": 12.4,
        "duration_s": 300,
        "department": "  Sales  EMEA ",
        "tags": [" pricing ", "", "demo", "pricing"],
    }
    c = run(body).conversation
    assert (c.rating, c.rating_comment) == (4, "Quick and kind")
    assert (c.wait_s, c.duration_s) == (12, 300)  # whole seconds
    assert c.department == "Sales EMEA"
    assert c.tags == ("pricing", "demo")  # trimmed, empties and repeats left out


def test_without_metrics_the_duration_is_the_chats_own_length() -> None:
    c = run(CHAT).conversation
    assert (c.rating, c.rating_comment, c.wait_s, c.department, c.tags) == (
        None,
        None,
        None,
        None,
        (),
    )
    assert c.duration_s == 300  # 11:55 to 12:00
    assert run(OFFLINE).conversation.duration_s is None


def test_a_fractional_rating_stays_a_fraction_and_a_whole_one_an_integer() -> None:
    body = chat()
    body["chat"]["rating"] = 4.5
    assert run(body).conversation.rating == 4.5
    body["chat"]["rating"] = 5.0
    rating = run(body).conversation.rating
    assert rating == 5
    assert isinstance(rating, int)
