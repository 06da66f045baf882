"""The messages a chat ends in: its `SyncResult`, and a `DeadLetter` or a `SyncRetry`."""

from __future__ import annotations

from datetime import datetime

from chat_contracts.dlq import DeadLetter, DeadLetterReason, original_copy, redact_headers
from chat_contracts.settings import Mode
from chat_contracts.sync import (
    ActivityRecord,
    PersonRecord,
    RetryReason,
    SyncError,
    SyncResult,
    SyncRetry,
)
from crm_sync.domain.work import ChatWork, Failure

SERVICE = "crm-sync"


def _person(work: ChatWork) -> PersonRecord | None:
    if work.person_id is None or work.person_object is None or work.person_outcome is None:
        return None
    return PersonRecord(
        object=work.person_object,
        record_id=work.person_id,
        outcome=work.person_outcome,
        converted_from_lead_id=work.converted_from,
    )


def _activity(work: ChatWork, mode: Mode) -> ActivityRecord | None:
    if work.activity_id is None:
        return None
    return ActivityRecord(
        object="Task" if mode == "sales" else "Case",
        record_id=work.activity_id,
        outcome="created" if work.activity_created else "existing",
    )


def result(
    work: ChatWork,
    mode: Mode,
    *,
    api_calls: float,
    batch_size: int,
    error: SyncError | None = None,
    parked: bool = False,
    retry_at: datetime | None = None,
) -> SyncResult:
    """The chat's `crm.sync.results.v1` event: ok, failed (`work.failure`) or parked (to
    be tried again at `retry_at`). It names the visitor, the chat's end and the record it
    came from, so the console can find it and ask for it again."""
    conversation = work.conversation
    if work.failure is not None:
        error, status = error_of(work.failure), "failed"
    else:
        status = "parked" if parked else "ok"
    owner = work.owner if status == "ok" else None
    return SyncResult(
        tenant_id=conversation.tenant_id,
        chat_id=conversation.chat_id,
        kind=conversation.kind,
        source_message_id=str(conversation.message_id),
        mode=mode,
        status=status,
        person=_person(work),
        activity=_activity(work, mode),
        owner_id=owner.id if owner is not None and work.activity_created else None,
        owner_source=owner.source if owner is not None and work.activity_created else None,
        deduped=status == "ok" and not work.activity_created and work.person_outcome != "created",
        attachments_uploaded=work.attachments_uploaded,
        truncated_fields=tuple(sorted(work.truncated)),
        dropped_fields=tuple(sorted(work.dropped)),
        api_calls=round(api_calls, 6),
        batch_size=max(1, batch_size),
        error=error if status != "ok" else None,
        visitor_email=conversation.visitor.email,
        ended_at=conversation.ended_at or conversation.occurred_at,
        retry_at=retry_at if status == "parked" else None,
        source=work.source.origin,
    )


def error_of(failure: Failure) -> SyncError:
    """The results' view of a failure."""
    return SyncError(
        code=failure.code,
        message=failure.message,
        salesforce_error_code=failure.salesforce_code,
        fields=failure.fields,
    )


def dead_letter(work: ChatWork) -> DeadLetter:
    """The chat's `crm.dlq.v1` record: the reason, Salesforce's message, the original."""
    failure = work.failure
    assert failure is not None
    source = work.source
    value, message = original_copy(source.value, failure.message)
    return DeadLetter(
        tenant_id=work.conversation.tenant_id,
        reason=failure.dlq_reason,
        message=message,
        error_code=failure.salesforce_code,
        error_fields=failure.fields,
        service=SERVICE,
        source_topic=source.topic or None,
        source_partition=source.partition,
        source_offset=source.offset,
        original_key=source.key,
        original_value=value,
        original_headers=redact_headers(source.headers),
        attempts=source.attempt,
    )


def retry(
    work: ChatWork, reason: RetryReason, error: SyncError, now: datetime, not_before: datetime
) -> SyncRetry:
    """The chat parked on `crm.sync.retry.v1` until `not_before`."""
    conversation = work.conversation
    return SyncRetry(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        attempt=work.source.attempt,
        not_before=not_before,
        reason=reason,
        last_error=error,
        first_failed_at=work.source.first_failed_at or now,
    )


def exhausted(work: ChatWork, error: SyncError) -> None:
    """Mark a chat parked for too long as given up."""
    internal = error.code == RetryReason.INTERNAL.value
    work.failure = Failure(
        code="retries_exhausted",
        message=f"still failing after {work.source.attempt} attempts: {error.message}",
        dlq_reason=DeadLetterReason.INTERNAL_ERROR
        if internal
        else DeadLetterReason.RETRIES_EXHAUSTED,
        salesforce_code=error.salesforce_error_code,
        fields=error.fields,
    )
