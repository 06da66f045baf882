"""One valid instance of every message model, for round trips (and other tests' fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime

from chat_contracts import (
    ActivityRecord,
    Attachment,
    AuditChange,
    AuditEvent,
    BackfillCommand,
    BotErrorCode,
    BotErrorReply,
    ChatEndedEvent,
    CommandAcceptedReply,
    ConnectedEvent,
    Conversation,
    ConversationAgent,
    ConversationVisitor,
    CreateRecordCommand,
    CreateRecordRequest,
    CrmCommandErrorCode,
    CrmCommandErrorReply,
    DeadLetter,
    DeadLetterReason,
    DescribeObjectRequest,
    DisconnectedEvent,
    Envelope,
    ErrorReply,
    FieldMappingRule,
    FindRecordBySoqlRequest,
    FindRecordRequest,
    ListObjectsRequest,
    LookupVisitorRequest,
    MissingPermission,
    ObjectDescriptionReply,
    ObjectListReply,
    OfflineMessageSubmittedEvent,
    PermissionCheckEvent,
    PersonRecord,
    RawChatEvent,
    RecordCreatedReply,
    RecordFoundReply,
    RecordNotFoundReply,
    RecordWrittenReply,
    RefreshFailedEvent,
    RefreshTokenRecord,
    ReplayDeadLettersCommand,
    ResyncChatCommand,
    RetryReason,
    RevokedEvent,
    SourcePosition,
    SyncError,
    SyncResult,
    SyncRetry,
    TenantSettings,
    TokenErrorCode,
    TokenErrorReply,
    TokenGrantedReply,
    TokenRequest,
    Truncation,
    UpdateIfExists,
    UpdatePolicy,
    VisitorFoundReply,
    redact_headers,
    token_fingerprint,
)
from chat_contracts.bot_replies import SObjectFieldInfo, SObjectSummary

TENANT = "10000"
LEAD_ID = "00Q5g00000AbCdEFGH"
TASK_ID = "00T5g00000AbCdEFGH"
ORG_ID = "00D5g000004XyZaEAK"
USER_ID = "0055g00000AbCdEAAV"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

CHAT_ENDED_BODY = {
    "event": "chat.ended",
    "event_id": "evt-1",
    "site_id": 10000,
    "occurred_at": "2024-05-01T12:00:00Z",
    "chat": {
        "id": 1001,
        "started_at": "2024-05-01T11:55:00+01:00",
        "ended_at": "2024-05-01T12:00:00Z",
        "agent": {"email": "Ann@Acme.test", "name": "Ann"},
        "visitor": {"name": "Jo Bloggs", "email": " Jo@Example.COM ", "phone": "020 7946 0018"},
        "messages": [{"from": "visitor", "name": "Jo", "text": "<b>Hi</b>", "sent_at": None}],
        "notes": "wants a demo",
        "custom_fields": {"Plan": "pro", "Seats": 5},
        "custom_variables": {"utm": None},
        "request_page": "https://acme.test/pricing",
        "attachments": [{"name": "a.pdf", "url": "https://files.test/a", "size": 3}],
        "a_key_from_the_future": True,
    },
}
OFFLINE_BODY = {
    "event": "offline_message.submitted",
    "event_id": "evt-2",
    "site_id": "10000",
    "occurred_at": "2024-05-01T12:00:00Z",
    "message": {"id": "m-77", "visitor": {"email": "x@y.co"}, "content": "Call me"},
}


def conversation() -> Conversation:
    """A fully populated chat conversation."""
    return Conversation(
        tenant_id=TENANT,
        occurred_at=T0,
        kind="chat",
        event_id="evt-1",
        chat_id="1001",
        visitor=ConversationVisitor(
            visitor_id="v-1",
            first_name="Jo",
            last_name="Bloggs",
            email="Jo@Example.COM",
            phone_e164="+442079460018",
            phone_raw="020 7946 0018",
            company="Bloggs Ltd",
        ),
        agent=ConversationAgent(email="ann@acme.test", name="Ann"),
        started_at=T0,
        ended_at=T0,
        transcript="[11:55] Jo: Hi",
        notes="wants a demo",
        custom_fields={"Plan": "pro"},
        custom_variables={"utm": ""},
        request_page="https://acme.test/pricing",
        attachments=(Attachment(name="a.pdf", url="https://files.test/a", size=3),),
        truncations=(Truncation(field="visitor.company", limit=255, original_length=300),),
    )


def _sync_error() -> SyncError:
    return SyncError(code="salesforce_unavailable", message="503", fields=("LastName",))


def all_samples() -> list[Envelope]:
    """One instance of each message model (several per union)."""
    conv = conversation()
    return [
        RawChatEvent(
            tenant_id=TENANT,
            source="webhook",
            payload=ChatEndedEvent.model_validate(CHAT_ENDED_BODY),
        ),
        RawChatEvent(
            tenant_id=TENANT,
            source="topic",
            payload=OfflineMessageSubmittedEvent.model_validate(OFFLINE_BODY),
        ),
        conv,
        DeadLetter(
            tenant_id=TENANT,
            reason=DeadLetterReason.SCHEMA_VALIDATION,
            message="chat.id missing",
            service="ingest",
            source_topic="chat.raw.v1",
            source_partition=1,
            source_offset=42,
            original_key=b"10000|event:evt-1",
            original_value=b"\x00\xffnot json",
            original_headers=redact_headers([("correlation_id", b"c1"), ("x-token", b"s3cret")]),
            attempts=2,
        ),
        CreateRecordCommand(tenant_id=TENANT, object="Task", conversation=conv, fields={"A__c": 1}),
        RecordCreatedReply(tenant_id=TENANT, status="created", object="Lead", record_id=LEAD_ID),
        CrmCommandErrorReply(
            tenant_id=TENANT, code=CrmCommandErrorCode.REQUIRED_FIELDS_MISSING, message="LastName"
        ),
        SyncResult(
            tenant_id=TENANT,
            chat_id="1001",
            kind="chat",
            mode="sales",
            status="ok",
            person=PersonRecord(object="Lead", record_id=LEAD_ID, outcome="created"),
            activity=ActivityRecord(object="Task", record_id=TASK_ID, outcome="created"),
            owner_id=USER_ID,
            owner_source="agent",
            api_calls=0.025,
            batch_size=40,
            visitor_email="jane@example.com",
            ended_at=T0,
            source=SourcePosition(topic="chat.conversations.v1", partition=3, offset=1842),
        ),
        ResyncChatCommand(
            tenant_id=TENANT,
            requested_by="admin",
            chat_id="1001",
            source=SourcePosition(topic="chat.conversations.v1", partition=3, offset=1842),
        ),
        ReplayDeadLettersCommand(
            tenant_id=TENANT,
            requested_by="tenant-link",
            letters=(SourcePosition(topic="crm.dlq.v1", partition=0, offset=7),),
        ),
        BackfillCommand(
            tenant_id=TENANT,
            requested_by="cli",
            start=T0,
            end=datetime(2024, 5, 2, tzinfo=UTC),
        ),
        CommandAcceptedReply(tenant_id=TENANT, command="backfill", requeued=12, skipped=1),
        AuditEvent(
            tenant_id=TENANT,
            service="auth",
            actor="admin",
            action="settings.update",
            changes=(AuditChange(field="mode", before="sales", after="support"),),
        ),
        SyncRetry(
            tenant_id=TENANT,
            conversation=conv,
            attempt=1,
            not_before=T0,
            reason=RetryReason.SALESFORCE_UNAVAILABLE,
            last_error=_sync_error(),
            first_failed_at=T0,
        ),
        CreateRecordRequest(
            tenant_id=TENANT,
            object="Lead",
            fields={"LastName": "{!Visitor.Name}", "NumberOfEmployees": 5, "Active__c": True},
            variables={"Visitor.Name": "Jo"},
            update_if_exists=UpdateIfExists(match_field="Email"),
        ),
        FindRecordRequest(
            tenant_id=TENANT, object="Contact", field="Email", value="x", save={"Id": "cid"}
        ),
        FindRecordBySoqlRequest(
            tenant_id=TENANT, soql="SELECT Id FROM Case", save={"Contact.Email": "email"}
        ),
        ListObjectsRequest(tenant_id=TENANT),
        DescribeObjectRequest(tenant_id=TENANT, object="Lead"),
        LookupVisitorRequest(
            tenant_id=TENANT, email="{!Visitor.Email}", phone="020 7946 0958", phone_region="GB"
        ),
        VisitorFoundReply(
            tenant_id=TENANT,
            object="Lead",
            record_id=LEAD_ID,
            name="Jo Bloggs",
            url=f"https://acme.my.salesforce.com/lightning/r/Lead/{LEAD_ID}/view",
            open_tasks=2,
        ),
        RecordWrittenReply(tenant_id=TENANT, status="updated", record_id=LEAD_ID),
        RecordFoundReply(tenant_id=TENANT, record_id=LEAD_ID, variables={"n": 1.5, "x": None}),
        RecordNotFoundReply(tenant_id=TENANT),
        ObjectListReply(
            tenant_id=TENANT,
            objects=(
                SObjectSummary(
                    name="Lead", label="Lead", createable=True, queryable=True, updateable=True
                ),
            ),
        ),
        ObjectDescriptionReply(
            tenant_id=TENANT,
            object="Lead",
            fields=(
                SObjectFieldInfo(
                    name="LastName",
                    label="Last Name",
                    type="string",
                    length=80,
                    required=True,
                    createable=True,
                    updateable=True,
                ),
            ),
        ),
        BotErrorReply(
            tenant_id=TENANT, code=BotErrorCode.UNKNOWN_FIELD, message="no X", fields=("X",)
        ),
        ErrorReply(tenant_id=TENANT, code="validation", message="bad request"),
        TokenRequest(
            tenant_id=TENANT, force_refresh=True, rejected_token_fingerprint=token_fingerprint("t")
        ),
        TokenGrantedReply(
            tenant_id=TENANT,
            access_token="00D!secret-access",
            instance_url="https://acme.my.salesforce.com",
            org_id=ORG_ID,
            user_id=USER_ID,
            issued_at=T0,
            expires_at=T0,
        ),
        TokenErrorReply(tenant_id=TENANT, code=TokenErrorCode.REVOKED, message="reconnect"),
        RefreshTokenRecord(
            tenant_id=TENANT,
            key_id="k1",
            nonce=b"\x01" * 12,
            ciphertext=b"\x02" * 40,
            org_id=ORG_ID,
            instance_url="http://127.0.0.1:8800",
            sandbox=False,
            user_id=USER_ID,
            username="admin@acme.test",
            connected_at=T0,
        ),
        ConnectedEvent(
            tenant_id=TENANT,
            org_id=ORG_ID,
            user_id=USER_ID,
            username="admin@acme.test",
            instance_url="https://acme.my.salesforce.com",
            sandbox=True,
        ),
        RefreshFailedEvent(tenant_id=TENANT, error="http_503", attempts=3),
        RevokedEvent(tenant_id=TENANT),
        DisconnectedEvent(tenant_id=TENANT, initiated_by="admin", revoked_at_salesforce=True),
        PermissionCheckEvent(
            tenant_id=TENANT, missing=(MissingPermission(object="Case", operation="create"),)
        ),
        TenantSettings(
            tenant_id=TENANT,
            mode="support",
            update_policy=UpdatePolicy.FILL_EMPTY_ONLY,
            field_mapping=(
                FieldMappingRule(object="Lead", source="custom_fields.Plan", target="Plan__c"),
            ),
            owner_fallback_user_id=USER_ID,
        ),
    ]
