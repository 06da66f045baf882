"""ingest's use cases: accept a webhook, normalise a batch of raw events.

Each loads what it needs, asks the domain, and publishes; the only state is the dedupe
memory, committed after Kafka confirmed the batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from chat_runtime import tracing
from chat_runtime.logging import get_logger
from chat_runtime.tracing import Headers
from ingest_service.adapters.ports import (
    JSON_HEADERS,
    OutRecord,
    PhoneRegions,
    Publisher,
    PublishError,
    RecentKeys,
)
from ingest_service.domain.batch import BatchPlan, BatchPlanner
from ingest_service.domain.consumed import RawRecord
from ingest_service.domain.dedupe import DedupeMemory
from ingest_service.domain.webhook import Refused, check_request, raw_record
from ingest_service.metrics import IngestMetrics

log = get_logger(__name__)

# Records planned, then handed to the producer, at a time: the producer sends them while
# the next ones are planned, and a 1,000-record batch does not hold up the webhook
# requests a process of both halves serves meanwhile.
CHUNK: Final = 200
_Traced = tuple[list[Headers], list[Headers]]
"""The trace headers of a plan's conversations and of its dead letters, in their order."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What the HTTP entrypoint read: the raw body and the two signature headers."""

    body: bytes
    timestamp: bytes | None
    signature: bytes | None


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """Status and JSON body to answer with; `outcome` labels the metric."""

    status: int
    body: dict[str, Any]
    outcome: str


class AcceptWebhook:
    """POST /webhooks/comm100: verify, then store in `chat.raw.v1` before saying 202."""

    def __init__(
        self,
        *,
        secrets: Mapping[str, Sequence[bytes]],
        publisher: Publisher,
        raw_topic: str,
        replay_window_s: int,
        publish_timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._publisher = publisher
        self._topic = raw_topic
        self._window = replay_window_s
        self._timeout = publish_timeout_s
        self._clock = clock

    async def __call__(self, request: WebhookRequest) -> WebhookResponse:
        now = self._clock()
        verdict = check_request(
            request.body, request.timestamp, request.signature, self._secrets, now, self._window
        )
        if isinstance(verdict, Refused):
            return WebhookResponse(verdict.status, verdict.body(), verdict.error)
        key, value = raw_record(verdict, datetime.fromtimestamp(now, UTC))
        try:
            await self._publisher.publish(OutRecord(self._topic, key, value), self._timeout)
        except PublishError as exc:
            log.warning("webhook not stored, answering 503", error=str(exc))
            body = {"error": "unavailable", "detail": "not stored; retry later"}
            return WebhookResponse(503, body, "unavailable")
        body = {"status": "accepted", "event_id": verdict.event.event_id}
        return WebhookResponse(202, body, "accepted")


class NormaliseBatch:
    """`chat.raw.v1` batch in, conversations and dead letters out, duplicates skipped."""

    def __init__(
        self,
        *,
        publisher: Publisher,
        recent_keys: RecentKeys,
        regions: PhoneRegions,
        memory: DedupeMemory,
        conversations_topic: str,
        dlq_topic: str,
        metrics: IngestMetrics,
        clock: Callable[[], float] = time.time,
        group: str | None = None,
    ) -> None:
        self._group = group
        self._publisher = publisher
        self._recent_keys = recent_keys
        self._regions = regions
        self._memory = memory
        self._conversations = conversations_topic
        self._dlq = dlq_topic
        self._metrics = metrics
        self._clock = clock

    async def __call__(self, records: Sequence[RawRecord]) -> BatchPlan:
        """Handle one batch; raises PublishError (nothing committed) when Kafka fails."""
        if not tracing.enabled() or not records:
            return await self._handle(records, None)
        # Each event's conversation (or dead letter) carries its event's trace onwards.
        batch = tracing.BatchTrace(records[0].topic, "normalise", records, _same, group=self._group)
        with batch:
            return await self._handle(records, batch)

    async def _handle(
        self, records: Sequence[RawRecord], batch: tracing.BatchTrace[RawRecord] | None
    ) -> BatchPlan:
        await self._ensure_memory(records)
        planner = BatchPlanner(self._memory, self._regions.region)
        plan = planner.plan
        confirmations: list[Awaitable[None]] = []
        sent = (0, 0)
        traced: _Traced | None = ([], []) if batch is not None else None
        try:
            for start in range(0, len(records), CHUNK):
                for record in records[start : start + CHUNK]:
                    planner.add(record)
                    if batch is not None and traced is not None:
                        _follow(plan, traced, batch.headers_for(record))
                out, sent = self._unsent(plan, sent, traced)
                confirmations.append(await self._publisher.enqueue(out))
                await asyncio.sleep(0)  # the producer's turn to send
            await asyncio.gather(*confirmations)
        except BaseException:
            for confirmation in confirmations:
                if isinstance(confirmation, asyncio.Future):
                    confirmation.cancel()
            raise
        self._commit(plan)  # only now: every record of the batch is stored
        return plan

    def _unsent(
        self, plan: BatchPlan, sent: tuple[int, int], traced: _Traced | None = None
    ) -> tuple[list[OutRecord], tuple[int, int]]:
        """The plan's records after the `sent` (conversations, dead letters) counts, with
        their events' trace headers when `traced` has them."""
        conversations, letters = sent
        new_conversations = plan.conversations[conversations:]
        new_letters = plan.dead_letters[letters:]
        if traced is None:
            out = [OutRecord(self._conversations, k, v) for k, v in new_conversations]
            out += [OutRecord(self._dlq, k, v) for k, v in new_letters]
        else:
            heads, letter_heads = traced[0][conversations:], traced[1][letters:]
            out = [
                OutRecord(self._conversations, k, v, (*JSON_HEADERS, *h))
                for (k, v), h in zip(new_conversations, heads, strict=True)
            ]
            out += [
                OutRecord(self._dlq, k, v, (*JSON_HEADERS, *h))
                for (k, v), h in zip(new_letters, letter_heads, strict=True)
            ]
        return out, (len(plan.conversations), len(plan.dead_letters))

    async def _ensure_memory(self, records: Sequence[RawRecord]) -> None:
        if not self._memory.enabled or not records:
            return
        first: dict[tuple[str, int], int] = {}
        for record in records:
            first.setdefault((record.topic, record.partition), record.offset)
        stale = {p: o for p, o in first.items() if self._memory.current(*p, o) is None}
        if not stale:
            return
        started = time.perf_counter()
        now_ms = int(self._clock() * 1000)
        entries = await self._recent_keys.read(
            stale, now_ms - self._memory.window_ms, self._memory.max_keys
        )
        for (topic, partition), offset in stale.items():
            found = entries.get((topic, partition), ())
            self._memory.rebuilt(topic, partition, offset, found, now_ms)
        self._metrics.dedupe_rebuilds.inc(len(stale))
        self._metrics.dedupe_rebuild_seconds.observe(time.perf_counter() - started)
        log.info("dedupe memory rebuilt", partitions=len(stale))

    def _commit(self, plan: BatchPlan) -> None:
        now_ms = int(self._clock() * 1000)
        if self._memory.enabled:
            for partition, next_offset in plan.next_offsets.items():
                memory = self._memory.partitions.get(partition)
                if memory is not None:
                    memory.commit(plan.seen.get(partition, ()), next_offset, now_ms)
        metrics = self._metrics
        for kind, count in plan.kinds.items():
            metrics.published(kind, count)
        for (source, reason), count in plan.reasons.items():
            metrics.dead_lettered(source, reason, count)
        for name, count in plan.invalid_fields.items():
            metrics.invalid_field(name, count)
        if plan.duplicates:
            metrics.duplicates.inc(plan.duplicates)
        if plan.dead_letters:
            reasons = {reason: n for (_, reason), n in plan.reasons.items()}
            log.warning("raw records dead-lettered", count=len(plan.dead_letters), reasons=reasons)


def _same(record: RawRecord) -> RawRecord:
    return record


def _follow(plan: BatchPlan, traced: _Traced, headers: Headers) -> None:
    """What the plan gained from the record just added carries the record's trace."""
    conversations, letters = traced
    conversations += [headers] * (len(plan.conversations) - len(conversations))
    letters += [headers] * (len(plan.dead_letters) - len(letters))
