"""ingest's own metrics, beside FastStream's and the suite's in the service registry.

- `ingest_webhook_requests_total{status,outcome}` and `ingest_webhook_seconds`: the HTTP side;
- `ingest_conversations_total{kind}`: conversations published;
- `ingest_duplicates_total`: events skipped because their event_id was seen in the window;
- `ingest_invalid_fields_total{field}`: values left out of a conversation (an email that
  is not one, a phone that does not parse; the raw phone is kept);
- `ingest_dedupe_rebuilds_total`, `ingest_dedupe_rebuild_seconds`: partition take-overs;
- `chat_messages_dead_lettered_total{topic,reason}` (the suite's): records sent to the DLQ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from chat_runtime.labels import LabelCache
from chat_runtime.metrics import ServiceMetrics

_WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass
class IngestMetrics:
    """The counters ingest feeds; labelled children are cached (labels() is not free)."""

    service: ServiceMetrics
    webhook_requests: Counter
    webhook_seconds: Histogram
    conversations: Counter
    duplicates: Counter
    invalid_fields: Counter
    dedupe_rebuilds: Counter
    dedupe_rebuild_seconds: Histogram
    _child: LabelCache = field(default_factory=LabelCache)

    def webhook(self, status: int, outcome: str, seconds: float) -> None:
        """Count one answered webhook request."""
        self._child(self.webhook_requests, str(status), outcome).inc()
        self.webhook_seconds.observe(seconds)

    def published(self, kind: str, count: int) -> None:
        """Count conversations of `kind` published."""
        if count:
            self._child(self.conversations, kind).inc(count)

    def dead_lettered(self, source_topic: str, reason: str, count: int = 1) -> None:
        """Count records of `source_topic` sent to the DLQ for `reason`."""
        self._child(self.service.dead_lettered, source_topic, reason).inc(count)

    def invalid_field(self, name: str, count: int = 1) -> None:
        """Count values left out of conversations."""
        self._child(self.invalid_fields, name).inc(count)


def build_ingest_metrics(registry: CollectorRegistry, service: ServiceMetrics) -> IngestMetrics:
    """Create ingest's metrics in `registry` (once per registry)."""
    return IngestMetrics(
        service=service,
        webhook_requests=Counter(
            "ingest_webhook_requests",
            "Webhook requests by HTTP status and outcome.",
            ["status", "outcome"],
            registry=registry,
        ),
        webhook_seconds=Histogram(
            "ingest_webhook_seconds",
            "Time to answer a webhook request (202 includes Kafka's confirmation).",
            buckets=_WEBHOOK_BUCKETS,
            registry=registry,
        ),
        conversations=Counter(
            "ingest_conversations",
            "Conversations published to chat.conversations.v1, by kind.",
            ["kind"],
            registry=registry,
        ),
        duplicates=Counter(
            "ingest_duplicates",
            "Raw events skipped: their event_id was already normalised in the window.",
            registry=registry,
        ),
        invalid_fields=Counter(
            "ingest_invalid_fields",
            "Values left out of a conversation because they were invalid, by field.",
            ["field"],
            registry=registry,
        ),
        dedupe_rebuilds=Counter(
            "ingest_dedupe_rebuilds",
            "Dedupe memories rebuilt from chat.raw.v1 (partitions taken over).",
            registry=registry,
        ),
        dedupe_rebuild_seconds=Histogram(
            "ingest_dedupe_rebuild_seconds",
            "Time to rebuild the dedupe memory of a batch's partitions.",
            registry=registry,
        ),
    )
