"""What became of a tenant's batch: every chat done (written or given up) or parked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chat_contracts.sync import RetryReason, SyncError
from crm_sync.domain import errors
from crm_sync.domain.salesforce import CallStats
from crm_sync.domain.work import ChatWork


@dataclass
class Parking:
    """A chat to park, and why."""

    work: ChatWork
    reason: RetryReason
    error: SyncError
    delay_s: float = 0.0


@dataclass
class TenantOutcome:
    """What became of a tenant's chats: each one is done (ok or failed) or parked."""

    works: Sequence[ChatWork]
    parked: list[Parking] = field(default_factory=list)
    calls: int = 0
    last_error: SyncError | None = None
    down: bool = False
    """Salesforce answered none of the last rounds: the tenant is held for a while."""

    def count(self, stats: CallStats) -> None:
        self.calls += stats.calls


def park_leftovers(outcome: TenantOutcome) -> None:
    """After the last round: a chat whose Task/Case exists is done (only an update or a
    file was missing); any other chat not done is parked, with its last error."""
    for work in outcome.works:
        if work.done:
            continue
        if work.activity_id is not None:  # written; only an update or a file is missing
            work.update_pending = False
            work.files.clear()
            continue
        if work.transient is not None:
            error = work.transient
            reason = errors.retry_reason(error)
            sync_error = SyncError(
                code=reason.value,
                message=error.message or error.code,
                salesforce_error_code=error.code,
                fields=error.fields,
            )
        else:
            reason = RetryReason.SALESFORCE_UNAVAILABLE
            sync_error = outcome.last_error or SyncError(code=reason.value, message="not written")
        outcome.parked.append(Parking(work, reason, sync_error))
