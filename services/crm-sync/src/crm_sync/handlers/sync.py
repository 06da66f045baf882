"""crm-sync's use cases: write a poll of conversations, bring parked chats back when due.

Each is called with plain records by a thin Kafka entrypoint and returns once every record
it produces is stored, so the entrypoint may commit; when a publish fails it raises and
nothing is committed (the poll comes again and is deduplicated).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from chat_contracts.dlq import DeadLetter
from chat_contracts.keys import key_for_conversation
from chat_contracts.settings import TenantSettings
from chat_contracts.sync import RetryReason, SyncError, SyncRetry
from chat_runtime.logging import get_logger
from chat_runtime.tracing import TRACE_HEADERS, BatchTrace
from crm_sync.adapters.ports import JSON_HEADERS, Clock, OutRecord, Publisher, SettingsStore
from crm_sync.domain.inbound import (
    ATTEMPT_HEADER,
    FIRST_FAILED_HEADER,
    SOURCE_HEADER,
    InRecord,
    decode_chats,
    decode_retries,
)
from crm_sync.domain.linger import Linger
from crm_sync.domain.outcome import Parking, TenantOutcome
from crm_sync.domain.parked import Held, ParkedHold
from crm_sync.domain.work import ChatWork, Source
from crm_sync.handlers.engine import SyncEngine
from crm_sync.handlers.outputs import Outputs, OutTopics
from crm_sync.metrics import SyncMetrics

log = get_logger(__name__)
DEFAULT_LINGER_MS = int(TenantSettings.model_fields["batch_linger_ms"].default)
DEFAULT_BATCH_SIZE = int(TenantSettings.model_fields["batch_max_size"].default)
MAX_LINGER_S: Final = 5.0
"""A lane waits for more chats at most this long, whatever a tenant's settings say."""


class SyncConversations:
    """A poll of `chat.conversations.v1`: per tenant, in batches, all tenants at once."""

    def __init__(
        self,
        engine: SyncEngine,
        store: SettingsStore,
        publisher: Publisher,
        outputs: Outputs,
        clock: Clock,
        *,
        tenant_deadline_s: float,
        group: str | None = None,
        latency_target_s: float = 0.0,
    ) -> None:
        self.engine, self.store, self.publisher, self.outputs = engine, store, publisher, outputs
        self.clock, self.deadline_s, self.group = clock, tenant_deadline_s, group
        self.linger = Linger(latency_target_s)

    async def __call__(self, records: Sequence[InRecord]) -> None:
        works, dead = decode_chats(records)
        by_tenant: dict[str, list[ChatWork]] = defaultdict(list)
        for work in works:
            by_tenant[work.conversation.tenant_id].append(work)
        async with asyncio.TaskGroup() as group:  # one tenant's trouble never waits on another's
            group.create_task(self.publisher.publish_many(self.outputs.dead_letters(dead)))
            for tenant_id, chats in by_tenant.items():
                group.create_task(self.tenant(tenant_id, chats))

    async def lane(
        self, tenant_id: str, works: list[ChatWork], letters: Sequence[DeadLetter] = ()
    ) -> None:
        """One batch of a tenant's lane (`entrypoints.conversations`): its chats written,
        and the dead letters of records that were not conversations published."""
        if letters:
            await self.publisher.publish_many(self.outputs.dead_letters(list(letters)))
        if works:
            held = self.engine.caches.parked(tenant_id) is not None
            started = self.clock.monotonic()
            await self.tenant(tenant_id, works)
            if not held:  # a held tenant's batch costs no call: it says nothing of writes
                self.linger.wrote(self.clock.monotonic() - started)

    def batch_limit(self, tenant_id: str) -> int:
        """Chats a tenant's lane takes at a time (its `batch_max_size`)."""
        settings = self.store.get(tenant_id)
        return settings.batch_max_size if settings is not None else DEFAULT_BATCH_SIZE

    def linger_s(self, tenant_id: str) -> float:
        """How long a tenant's lane waits for more chats after the oldest was produced: up
        to the latency target less the expected write (`domain.linger`), or its own
        `batch_linger_ms` (at most `MAX_LINGER_S`) when longer. A tenant whose chats cost
        no call (held, removed, not syncing) does not wait."""
        settings = self.store.get(tenant_id)
        if self.engine.caches.parked(tenant_id) is not None or self.store.removed(tenant_id):
            return 0.0
        if settings is not None and not settings.auto_sync:
            return 0.0
        linger_ms = settings.batch_linger_ms if settings is not None else DEFAULT_LINGER_MS
        return self.linger.window_s(min(linger_ms / 1000, MAX_LINGER_S))

    def warm(self, tenant_id: str) -> None:
        """A lane starts waiting: fetch what the tenant's batch will need first meanwhile."""
        settings = self.store.get(tenant_id) or TenantSettings(tenant_id=tenant_id)
        if settings.auto_sync and not self.store.removed(tenant_id):
            self.engine.warm(tenant_id, settings)

    async def tenant(self, tenant_id: str, works: list[ChatWork]) -> None:
        """Write one tenant's chats of the poll and publish what became of each."""
        settings = self.store.get(tenant_id) or TenantSettings(tenant_id=tenant_id)
        if self.store.removed(tenant_id) or not settings.auto_sync:
            removed = self.store.removed(tenant_id)
            write_off = self.outputs.removed if removed else self.outputs.skipped
            with self._traced(tenant_id, works) as batch:
                out = write_off(works, settings.mode, batch.headers_for)
                await self.publisher.publish_many(out)
            return
        deadline = self.clock.monotonic() + self.deadline_s
        size = settings.batch_max_size
        for start in range(0, len(works), size):
            chunk = works[start : start + size]
            with self._traced(tenant_id, chunk) as batch:
                outcome = await self._run(tenant_id, settings, chunk, deadline)
                out = self.outputs.of(outcome, settings.mode, batch.headers_for)
                await self.publisher.publish_many(out)

    def _traced(self, tenant_id: str, works: Sequence[ChatWork]) -> BatchTrace[ChatWork]:
        """A span per chat continuing its trace, and one for the batch, which its
        Salesforce calls are children of (`chat_runtime.tracing`; nothing when off)."""
        topic = works[0].source.topic if works else ""
        return BatchTrace(
            topic,
            "sync chat",
            works,
            _source,
            group=self.group,
            attributes={"chat.tenant_id": tenant_id},
            describe=_describe,
        )

    async def _run(
        self, tenant_id: str, settings: TenantSettings, chunk: list[ChatWork], deadline: float
    ) -> TenantOutcome:
        try:
            async with asyncio.timeout(max(0.0, deadline - self.clock.monotonic())):
                return await self.engine.run(tenant_id, settings, chunk)
        except TimeoutError:
            # A write may still land; the parked chats are deduplicated when they return.
            reason = RetryReason.SALESFORCE_UNAVAILABLE
            error = SyncError(code=reason.value, message="Salesforce did not answer in time")
            return TenantOutcome(chunk, [Parking(w, reason, error) for w in chunk if not w.done])
        except Exception as exc:
            # A bug met by this tenant's chats must not cancel the other tenants' batches
            # nor rewind the poll for ever: its chats are parked (it may pass), and
            # dead-lettered after a few attempts (RetryPolicy.internal_attempts).
            log.exception("writing a tenant's chats failed", tenant_id=tenant_id)
            reason = RetryReason.INTERNAL
            error = SyncError(code=reason.value, message=f"internal error: {type(exc).__name__}")
            parked = [Parking(w, reason, error) for w in chunk if not w.done]
            return TenantOutcome(chunk, parked, last_error=error)


class ForwardDueRetries:
    """Parked chats of `crm.sync.retry.v1`: each is held in memory (`ParkedHold`) until its
    not-before time, then goes back to the conversations topic (same key, so it stays with
    its visitor's other chats). A parked chat is never written back to the retry topic to
    wait: it costs one record however long it waits. The Kafka side is `ParkedConsumer`."""

    def __init__(
        self,
        publisher: Publisher,
        outputs: Outputs,
        topics: OutTopics,
        clock: Clock,
        metrics: SyncMetrics,
        *,
        max_held_bytes: int,
        max_wait_s: float,
    ) -> None:
        self.publisher, self.outputs, self.topics = publisher, outputs, topics
        self.clock, self.metrics = clock, metrics
        self.hold = ParkedHold(max_held_bytes, timedelta(seconds=max_wait_s))

    async def __call__(self, records: Sequence[InRecord]) -> None:
        """Hold `records`, then publish what is due (the consumer's one step)."""
        self.add(records)
        await self.forward_due()

    def add(self, records: Sequence[InRecord]) -> None:
        """Hold records read from the retry topic; one that does not validate is due at
        once as a dead letter."""
        now = self.clock.now()
        retries, dead = decode_retries(records)
        for record, retry in retries:
            self.hold.add(Held(record, retry=retry), now)
        for record, letter in dead:
            self.hold.add(Held(record, letter=letter), now)
        self.metrics.parked_held.set(len(self.hold))

    def wait_s(self) -> float | None:
        """Seconds until the next held chat is due (None: nothing held)."""
        due = self.hold.next_due()
        return None if due is None else max(0.0, (due - self.clock.now()).total_seconds())

    async def forward_due(self) -> None:
        """Publish every held record that is due; on a failed publish they stay held (and
        uncommitted) and the error is raised."""
        now = self.clock.now()
        taken = self.hold.take_due(now)
        if not taken:
            return
        letters = [h.letter for h in taken if h.letter is not None]
        out = self.outputs.dead_letters(letters)
        out += [self._forward(h.retry, h.record) for h in taken if h.retry is not None]
        try:
            await self.publisher.publish_many(out)
        except BaseException:
            self.hold.put_back(taken, now)
            raise
        self.hold.settle(taken)
        self.metrics.parked_held.set(len(self.hold))

    def _forward(self, retry: SyncRetry, record: InRecord) -> OutRecord:
        self.metrics.retries.labels("forwarded").inc()
        conversation = retry.conversation
        headers: tuple[tuple[str, bytes], ...] = (
            *JSON_HEADERS,
            (ATTEMPT_HEADER, str(retry.attempt + 1).encode()),
            (FIRST_FAILED_HEADER, retry.first_failed_at.isoformat().encode()),
            # The chat's trace goes on with its next attempt.
            *((k, v) for k, v in record.headers if k in TRACE_HEADERS),
        )
        source = record.header(SOURCE_HEADER)
        if source is not None:  # the record the chat was first read from, kept
            headers += ((SOURCE_HEADER, source.encode()),)
        value = conversation.model_dump_json().encode()
        return OutRecord(
            self.topics.conversations, key_for_conversation(conversation), value, headers
        )


def _source(work: ChatWork) -> Source:
    return work.source


def _describe(work: ChatWork) -> dict[str, str]:
    conversation = work.conversation
    return {"chat.id": conversation.chat_id, "chat.kind": conversation.kind}
