"""The records a handled chat produces: its result, and a dead letter or a retry; keyed as
the registry says, counted in the metrics by tenant and outcome."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from chat_contracts.dlq import DeadLetter, DeadLetterReason
from chat_contracts.keys import key_for_result, key_for_retry, tenant_key
from chat_contracts.settings import Mode
from chat_contracts.sync import RetryReason, SyncResult
from chat_runtime.tracing import Headers
from crm_sync.adapters.ports import JSON_HEADERS, Clock, OutRecord
from crm_sync.domain import results
from crm_sync.domain.inbound import SOURCE_HEADER, position_text
from crm_sync.domain.outcome import Parking, TenantOutcome
from crm_sync.domain.retry import RetryPolicy
from crm_sync.domain.work import ChatWork, Failure
from crm_sync.metrics import SyncMetrics

Trace = Callable[[ChatWork], Headers]
"""The trace headers of the records produced for a chat."""


def untraced(work: ChatWork) -> Headers:
    """No trace headers (tracing off, or no chat span)."""
    return ()


@dataclass(frozen=True, slots=True)
class OutTopics:
    """Where crm-sync writes."""

    results: str
    retry: str
    dlq: str
    conversations: str


class Outputs:
    """Turns handled chats into the records to publish."""

    def __init__(
        self,
        topics: OutTopics,
        metrics: SyncMetrics,
        policy: RetryPolicy,
        clock: Clock,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.topics, self.metrics, self.policy = topics, metrics, policy
        self.clock, self.jitter = clock, jitter

    def of(self, outcome: TenantOutcome, mode: Mode, trace: Trace = untraced) -> list[OutRecord]:
        """Result, dead letter or retry of every chat of a tenant's batch; each record
        carries its chat's `trace` headers."""
        works = outcome.works
        tenant = works[0].conversation.tenant_id if works else ""
        share = outcome.calls / max(1, len(works))
        self.metrics.api_calls.labels(self.metrics.base.tenant_label(tenant)).inc(outcome.calls)
        self.metrics.batch_size.observe(len(works))
        parked = {id(p.work): p for p in outcome.parked}
        out: list[OutRecord] = []
        now = self.clock.now()
        for work in works:
            parking = parked.get(id(work))
            first_failed = work.source.first_failed_at or now
            if parking is not None and self.policy.given_up(
                first_failed, now, parking.reason, work.source.attempt
            ):
                results.exhausted(work, parking.error)
                parking = None
            headers = _headers(trace(work))
            if parking is None:
                out += self._finished(work, mode, share, len(works), headers)
                continue
            delay = self._delay(parking, work.source.attempt)
            not_before = now + timedelta(seconds=delay)
            retry = results.retry(work, parking.reason, parking.error, now, not_before)
            value = retry.model_dump_json().encode()
            retry_headers = headers
            if work.source.origin is not None:
                retry_headers = (*headers, (SOURCE_HEADER, position_text(work.source.origin)))
            out.append(OutRecord(self.topics.retry, key_for_retry(retry), value, retry_headers))
            result = results.result(
                work,
                mode,
                api_calls=share,
                batch_size=len(works),
                error=parking.error,
                parked=True,
                retry_at=not_before,
            )
            out.append(self._result(result, headers=headers))
        return out

    def _delay(self, parking: Parking, attempt: int) -> float:
        if parking.reason is RetryReason.API_BUDGET and parking.delay_s > 0:
            # Held by the budget brake: every chat of the tenant comes back when its next
            # window opens, together, to be written in one batch.
            return parking.delay_s
        return max(parking.delay_s, self.policy.park_delay(parking.reason, attempt, self.jitter))

    def _finished(
        self, work: ChatWork, mode: Mode, share: float, size: int, headers: Headers = JSON_HEADERS
    ) -> list[OutRecord]:
        result = results.result(work, mode, api_calls=share, batch_size=size)
        if result.status == "ok" and not result.deduped:
            conversation = work.conversation
            ended = conversation.ended_at or conversation.occurred_at
            age = (self.clock.now() - ended).total_seconds()
            self.metrics.freshness.observe(max(0.0, age))
        out = [self._result(result, headers=headers)]
        if work.failure is not None:
            out.append(self._dead(results.dead_letter(work), headers))
        return out

    def skipped(
        self, works: Iterable[ChatWork], mode: Mode, trace: Trace = untraced
    ) -> list[OutRecord]:
        """Chats of a tenant with automatic sync off: reported, not written."""
        return [
            self._result(
                results.result(w, mode, api_calls=0, batch_size=1), "skipped", _headers(trace(w))
            )
            for w in works
        ]

    def removed(
        self, works: Sequence[ChatWork], mode: Mode, trace: Trace = untraced
    ) -> list[OutRecord]:
        """Chats of a tenant whose settings were deleted: dead-lettered (replayable)."""
        out: list[OutRecord] = []
        for work in works:
            work.failure = Failure(
                code="tenant_removed",
                message="the tenant's settings were deleted; crm-sync no longer syncs it",
                dlq_reason=DeadLetterReason.UNKNOWN_TENANT,
            )
            out += self._finished(work, mode, 0.0, len(works), _headers(trace(work)))
        return out

    def dead_letters(self, dead: Iterable[DeadLetter]) -> list[OutRecord]:
        """Records that were not valid messages."""
        return [self._dead(d) for d in dead]

    def _result(
        self, result: SyncResult, outcome: str | None = None, headers: Headers = JSON_HEADERS
    ) -> OutRecord:
        label = outcome or ("deduped" if result.deduped else result.status)
        tenant = self.metrics.base.tenant_label(result.tenant_id)
        self.metrics.chats.labels(tenant, label).inc()
        return OutRecord(
            self.topics.results, key_for_result(result), result.model_dump_json().encode(), headers
        )

    def _dead(self, letter: DeadLetter, headers: Headers = JSON_HEADERS) -> OutRecord:
        self.metrics.base.dead_lettered.labels(letter.source_topic or "", letter.reason.value).inc()
        value = letter.model_dump_json().encode()
        return OutRecord(self.topics.dlq, tenant_key(letter.tenant_id), value, headers)


def _headers(trace: Headers) -> Headers:
    return (*JSON_HEADERS, *trace) if trace else JSON_HEADERS
