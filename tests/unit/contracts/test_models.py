"""Behaviour of the models: unions, immutability, strictness, normalising validators."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from chat_contracts import (
    UNKNOWN_TENANT,
    BotActionReply,
    BotActionRequest,
    BotErrorReply,
    ChatEndedEvent,
    ConnectionEvent,
    Conversation,
    ConversationVisitor,
    CreateRecordCommand,
    DeadLetter,
    DeadLetterHeader,
    ErrorReply,
    FieldMappingRule,
    ObjectDescriptionReply,
    ObjectListReply,
    PermissionCheckEvent,
    RawChatEvent,
    RecordWrittenReply,
    SyncResult,
    TenantSettings,
    TokenErrorReply,
    TokenGrantedReply,
    TokenReply,
    clip_text,
    redact_headers,
    token_fingerprint,
)
from tests.unit.contracts.samples import CHAT_ENDED_BODY, OFFLINE_BODY, TENANT, conversation

T = TENANT


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (
            {"action": "create_record", "tenant_id": T, "object": "Lead", "fields": {"A": 1}},
            "Create",
        ),
        (
            {
                "action": "find_record",
                "tenant_id": T,
                "object": "Lead",
                "field": "Email",
                "value": "v",
            },
            "FindRecordRequest",
        ),
        ({"action": "find_record_by_soql", "tenant_id": T, "soql": "SELECT Id FROM Lead"}, "Soql"),
        ({"action": "list_objects", "tenant_id": T}, "ListObjects"),
        ({"action": "describe_object", "tenant_id": T, "object": "Case"}, "DescribeObject"),
    ],
)
def test_bot_requests_parse_by_action(body: dict[str, object], kind: str) -> None:
    parsed = TypeAdapter(BotActionRequest).validate_python(body)
    assert kind in type(parsed).__name__
    assert parsed.schema_version == 1  # envelope fields are optional for callers


def test_bot_request_with_unknown_action_is_refused() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(BotActionRequest).validate_python({"action": "delete_all", "tenant_id": T})


@pytest.mark.parametrize(
    ("body", "model"),
    [
        ({"status": "created", "record_id": "00Q5g00000AbCdEFGH"}, RecordWrittenReply),
        ({"status": "updated", "record_id": "00Q5g00000AbCdE"}, RecordWrittenReply),
        ({"status": "ok", "action": "list_objects", "objects": []}, ObjectListReply),
        (
            {"status": "ok", "action": "describe_object", "object": "Lead", "fields": []},
            ObjectDescriptionReply,
        ),
        ({"status": "error", "code": "unknown_object", "message": "no Foo"}, BotErrorReply),
    ],
)
def test_bot_replies_parse_by_status(body: dict[str, object], model: type) -> None:
    parsed = TypeAdapter(BotActionReply).validate_python({**body, "tenant_id": T})
    assert type(parsed) is model


def test_bot_error_codes_are_the_documented_ones() -> None:
    with pytest.raises(ValidationError):
        BotErrorReply(tenant_id=T, code="made_up", message="x")
    generic = ErrorReply(tenant_id=T, code="deadline_exceeded", message="late")
    assert BotErrorReply.model_validate_json(generic.model_dump_json()).code == "deadline_exceeded"


_EVENT_FIELDS: dict[str, dict[str, object]] = {
    "connected": {
        "org_id": "00D5g000004XyZaEAK",
        "user_id": "0055g00000AbCdEAAV",
        "username": "a@b.co",
        "instance_url": "https://x.my.salesforce.com",
        "sandbox": False,
    },
    "refresh_failed": {"error": "timeout"},
    "revoked": {},
    "disconnected": {"initiated_by": "admin", "revoked_at_salesforce": False},
    "permission_check": {},
}


@pytest.mark.parametrize("kind", sorted(_EVENT_FIELDS))
def test_connection_events_parse_by_kind(kind: str) -> None:
    body = {"kind": kind, "tenant_id": T, **_EVENT_FIELDS[kind]}
    assert TypeAdapter(ConnectionEvent).validate_python(body).kind == kind


def test_permission_check_ok_means_nothing_missing() -> None:
    event = TypeAdapter(ConnectionEvent).validate_python(
        {"kind": "permission_check", "tenant_id": T, "missing": []}
    )
    assert isinstance(event, PermissionCheckEvent)
    assert event.ok


def test_messages_are_frozen_and_refuse_unknown_keys() -> None:
    conv = conversation()
    with pytest.raises(ValidationError):
        conv.chat_id = "other"  # type: ignore[misc]
    data = json.loads(conv.model_dump_json())
    with pytest.raises(ValidationError, match="extra"):
        Conversation.model_validate({**data, "surprise": 1})
    with pytest.raises(ValidationError, match="extra"):
        Conversation.model_validate({**data, "visitor": {**data["visitor"], "age": 3}})


def test_webhook_payloads_tolerate_unknown_keys_and_numeric_ids() -> None:
    event = ChatEndedEvent.model_validate({**CHAT_ENDED_BODY, "new_top_level": {"x": 1}})
    assert event.site_id == "10000"
    assert event.chat.id == "1001"
    assert event.chat.messages[0].sender == "visitor"
    assert json.loads(event.model_dump_json())["chat"]["messages"][0]["from"] == "visitor"
    raw = RawChatEvent(tenant_id=T, source="webhook", payload=event)
    assert json.loads(raw.model_dump_json())["payload"]["chat"]["messages"][0]["from"] == "visitor"


def test_raw_event_parses_either_event_and_checks_the_tenant() -> None:
    for body in (CHAT_ENDED_BODY, OFFLINE_BODY):
        raw = RawChatEvent.model_validate({"tenant_id": T, "source": "webhook", "payload": body})
        assert raw.event_id == body["event_id"]
    with pytest.raises(ValidationError, match="site_id"):
        RawChatEvent.model_validate(
            {"tenant_id": "20000", "source": "topic", "payload": OFFLINE_BODY}
        )


def test_chat_metrics_in_the_webhook_must_be_numbers_a_chat_can_have() -> None:
    chat = CHAT_ENDED_BODY["chat"]
    assert isinstance(chat, dict)
    metrics = {"rating": "5", "wait_s": 3.5, "duration_s": 60, "tags": ["a", 7]}
    event = ChatEndedEvent.model_validate({**CHAT_ENDED_BODY, "chat": {**chat, **metrics}})
    assert (event.chat.rating, event.chat.wait_s, event.chat.tags) == (5, 3.5, ("a", "7"))
    for bad in ({"rating": -1}, {"wait_s": "inf"}, {"duration_s": -2}, {"rating": "nan"}):
        with pytest.raises(ValidationError):
            ChatEndedEvent.model_validate({**CHAT_ENDED_BODY, "chat": {**chat, **bad}})


def test_raw_event_refuses_an_unknown_event() -> None:
    body = {**OFFLINE_BODY, "event": "chat.started"}
    with pytest.raises(ValidationError):
        RawChatEvent.model_validate({"tenant_id": T, "source": "webhook", "payload": body})


def test_email_is_trimmed_lower_cased_and_validated() -> None:
    assert ConversationVisitor(email="  Jo.Bloggs@Example.COM ").email == "jo.bloggs@example.com"
    with pytest.raises(ValidationError):
        ConversationVisitor(email="not an email")
    with pytest.raises(ValidationError):
        ConversationVisitor(email="a" * 80 + "@x.co")  # longer than Salesforce's Email field


def test_salesforce_limits_are_enforced_and_clip_text_records_the_cut() -> None:
    with pytest.raises(ValidationError):
        ConversationVisitor(last_name="x" * 81)
    text, cut = clip_text("visitor.company", "y" * 300, 255)
    assert len(text) == 255
    assert cut is not None
    assert (cut.limit, cut.original_length) == (255, 300)
    assert clip_text("subject", "short", 255) == ("short", None)


def test_phone_must_be_e164() -> None:
    assert ConversationVisitor(phone_e164="+442079460018").phone_e164 == "+442079460018"
    with pytest.raises(ValidationError):
        ConversationVisitor(phone_e164="020 7946 0018")


def test_times_are_utc_and_naive_times_refused() -> None:
    paris = timezone(timedelta(hours=2))
    conv = conversation().model_copy(update={})
    data = json.loads(conv.model_dump_json())
    data["ended_at"] = datetime(2024, 5, 1, 14, 0, tzinfo=paris).isoformat()
    parsed = Conversation.model_validate(data)
    assert parsed.ended_at is not None
    assert parsed.ended_at.utcoffset() == timedelta(0)
    assert parsed.ended_at.hour == 12
    data["ended_at"] = "2024-05-01T12:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        Conversation.model_validate(data)


def test_tenant_id_must_be_key_safe() -> None:
    for bad in ("", "a|b", "with space", "-lead"):
        with pytest.raises(ValidationError):
            ErrorReply(tenant_id=bad, code="validation", message="x")
    assert ErrorReply(tenant_id=UNKNOWN_TENANT, code="internal", message="x")


def test_dead_letter_redacts_secret_headers_even_when_given_raw() -> None:
    headers = (
        DeadLetterHeader(name="X-Webhook-Signature", value=b"sha256=sig-s3cr3t"),
        DeadLetterHeader(name="Authorization", value=b"Bearer tok-s3cr3t"),
        DeadLetterHeader(name="correlation_id", value=b"c-1"),
    )
    letter = DeadLetter(
        tenant_id=T,
        reason="invalid_json",
        message="bad",
        service="ingest",
        original_headers=headers,
    )
    by_name = {h.name: h for h in letter.original_headers}
    assert by_name["X-Webhook-Signature"].redacted
    assert by_name["X-Webhook-Signature"].value is None
    assert by_name["Authorization"].value is None
    assert by_name["correlation_id"].value == b"c-1"
    wire = letter.model_dump_json()
    assert "s3cr3t" not in wire  # (a uuid in the wire form may well contain "abc")
    assert redact_headers([("api-key", b"k")])[0].redacted


def test_dead_letter_bytes_travel_as_base64() -> None:
    letter = DeadLetter(
        tenant_id=T, reason="invalid_json", message="m", service="ingest", original_value=b"\xff{"
    )
    assert json.loads(letter.model_dump_json())["original_value"] == "/3s="
    with pytest.raises(ValidationError, match="base64"):
        DeadLetter.model_validate({**json.loads(letter.model_dump_json()), "original_value": "@@"})


def test_access_token_is_hidden_in_repr_and_dump_but_travels_in_json() -> None:
    reply = TypeAdapter(TokenReply).validate_python(
        {
            "status": "ok",
            "tenant_id": T,
            "access_token": "SECRET-TOKEN",
            "instance_url": "http://127.0.0.1:8800",
            "org_id": "00D5g000004XyZaEAK",
            "user_id": "0055g00000AbCdEAAV",
            "issued_at": "2024-05-01T12:00:00Z",
        }
    )
    assert isinstance(reply, TokenGrantedReply)
    assert "SECRET-TOKEN" not in repr(reply)
    assert "SECRET-TOKEN" not in str(reply.model_dump())
    assert json.loads(reply.model_dump_json())["access_token"] == "SECRET-TOKEN"
    assert reply.access_token.get_secret_value() == "SECRET-TOKEN"


def test_token_errors_and_fingerprints() -> None:
    error = TypeAdapter(TokenReply).validate_python(
        {"status": "error", "tenant_id": T, "code": "not_connected", "message": "connect first"}
    )
    assert isinstance(error, TokenErrorReply)
    fingerprint = token_fingerprint("SECRET-TOKEN")
    assert len(fingerprint) == 16
    assert "SECRET" not in fingerprint
    assert fingerprint == token_fingerprint("SECRET-TOKEN") != token_fingerprint("other")


def test_settings_validate_the_field_mapping() -> None:
    rule = FieldMappingRule(object="Lead", source="custom_variables.utm", target="UTM__c")
    assert TenantSettings(tenant_id=T, field_mapping=(rule,)).mode == "sales"
    with pytest.raises(ValidationError, match="mappable"):
        FieldMappingRule(object="Lead", source="visitor.password", target="X__c")
    for metric in ("rating", "rating_comment", "wait_s", "duration_s", "department", "tags"):
        assert FieldMappingRule(object="Case", source=metric, target="X__c").source == metric
    with pytest.raises(ValidationError, match="mapped twice"):
        TenantSettings(tenant_id=T, field_mapping=(rule, rule.model_copy()))
    with pytest.raises(ValidationError):
        TenantSettings(tenant_id=T, batch_max_size=201)


def test_a_mapping_rule_takes_a_source_or_a_constant_and_may_translate() -> None:
    old = {"object": "Lead", "source": "visitor.company", "target": "Company"}
    assert FieldMappingRule.model_validate(old).value is None  # stored rules still valid
    constant = FieldMappingRule(object="Lead", value="Chat", target="LeadSource")
    assert (constant.source, constant.value) == (None, "Chat")
    assert FieldMappingRule.model_validate({**old, "source": None, "value": True}).value == "true"
    table = {"sales": "Web - Sales", "support": "Web - Support"}
    translated = FieldMappingRule(
        object="Lead", source="department", target="LeadSource", translate=table, default="Web"
    )
    assert translated.translate == table
    for bad, match in (
        ({"source": None}, "a source or a constant"),
        ({"value": "Chat"}, "not both"),
        ({"source": None, "value": ""}, "at least 1"),
        ({"source": None, "value": "Chat", "translate": table}, "only a source"),
        ({"default": "Web"}, "only with a translation"),
        ({"translate": {"Sales": "A", "sales": "B"}}, "twice"),
        ({"translate": {"sales": ""}}, "at least 1"),
    ):
        with pytest.raises(ValidationError, match=match):
            FieldMappingRule.model_validate({**old, **bad})


def test_create_command_needs_content_and_one_tenant() -> None:
    conv = conversation()
    command = CreateRecordCommand(tenant_id=T, object="Task", conversation=conv)
    assert command.effective_chat_id == conv.chat_id
    with pytest.raises(ValidationError, match="conversation, fields"):
        CreateRecordCommand(tenant_id=T, object="Lead")
    with pytest.raises(ValidationError, match="another tenant"):
        CreateRecordCommand(tenant_id="20000", object="Task", conversation=conv)
    with pytest.raises(ValidationError, match="differs"):
        CreateRecordCommand(tenant_id=T, object="Task", conversation=conv, chat_id="other")


def test_sync_result_that_is_not_ok_names_its_error() -> None:
    with pytest.raises(ValidationError, match="needs an error"):
        SyncResult(
            tenant_id=T, chat_id="c", kind="chat", mode="sales", status="parked", api_calls=0
        )
