"""Prometheus metrics of a service, all in one registry per service instance.

Nothing is registered at import time: `build_metrics(registry)` creates the metrics in the
registry it is given, so two apps in one process (tests) never collide.

Where each standard figure comes from:

- messages in, by topic: `faststream_received_messages_total{handler=<topic>}`;
- messages out, by topic: `faststream_published_messages_total{destination=<topic>,status}`;
- messages failed, by topic: `faststream_received_processed_messages_total{status}` (error,
  nacked) and `faststream_received_processed_messages_exceptions_total{exception_type}`;
- handler latency: `faststream_received_processed_messages_duration_seconds{handler}`;
  (all four from FastStream's `KafkaPrometheusMiddleware`, wired by `make_broker`)
- messages dead-lettered: `chat_messages_dead_lettered_total{topic,reason}` (the service,
  when it publishes to a DLQ);
- Salesforce calls: `chat_salesforce_calls_total{tenant,operation,outcome}`, budget left:
  `chat_salesforce_api_remaining{tenant}` and `chat_salesforce_api_limit{tenant}` (the
  Salesforce adapter, from `Sforce-Limit-Info`);
- request/reply client: `rr_client_*` (`chat_runtime.request_reply.metrics`).

FastStream's middleware already counts in/out/failed and times handlers on every
subscriber and publisher, so we do not keep a second, hand-fed copy of those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from chat_runtime.request_reply.metrics import RequestReplyMetrics, ResponderMetrics

NAMESPACE = "chat"

__all__ = [
    "ServiceMetrics",
    "TenantLabels",
    "build_metrics",
    "new_registry",
    "prometheus_middleware",
]


def new_registry() -> CollectorRegistry:
    """A fresh registry with the process, platform and GC collectors (CPU, memory, fds)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


OTHER_TENANTS: Final = "other"
TENANT_LABELS: Final = 200
"""Tenants a process labels by name in its per-tenant counters (the rest are `other`)."""


class TenantLabels:
    """Bounded cardinality for per-tenant counters: the first `limit` tenants a process
    meets keep their own label, every later one counts under `other`. With thousands of
    tenants a series per tenant per pod would swamp Prometheus; with traffic as skewed as
    chat traffic is, the tenants met first are mostly the busiest ones, and the budget
    gauges (which alerts read per tenant) are not bounded by this."""

    def __init__(self, limit: int = TENANT_LABELS) -> None:
        self.limit = limit
        self._named: set[str] = set()

    def __call__(self, tenant_id: str) -> str:
        if tenant_id in self._named:
            return tenant_id
        if len(self._named) < self.limit:
            self._named.add(tenant_id)
            return tenant_id
        return OTHER_TENANTS


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    """The suite's own metrics; FastStream's live in the same registry beside them."""

    registry: CollectorRegistry
    dead_lettered: Counter
    """Messages sent to a DLQ; labels `topic` (the source topic), `reason` (a short code)."""
    salesforce_calls: Counter
    """Salesforce API calls; labels `tenant`, `operation` (query, composite, ...), `outcome`."""
    salesforce_api_remaining: Gauge
    """API requests the tenant's org has left in its 24 h window; label `tenant`."""
    salesforce_api_limit: Gauge
    """The org's API request limit, to alert on remaining/limit; label `tenant`."""
    request_reply: RequestReplyMetrics
    """In-flight gauge, outcomes (timeouts among them), unknown replies, round trip."""
    responder: ResponderMetrics
    """Requests answered and skipped, reply failures, in flight, per request topic."""
    tenant_label: TenantLabels = field(default_factory=TenantLabels)
    """The `tenant` label value of per-tenant counters (bounded; see `TenantLabels`)."""


def build_metrics(registry: CollectorRegistry) -> ServiceMetrics:
    """Create the suite's metrics in `registry` (once per registry)."""
    return ServiceMetrics(
        registry=registry,
        dead_lettered=Counter(
            "messages_dead_lettered",
            "Messages routed to a dead-letter topic, by source topic and reason code.",
            ["topic", "reason"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        salesforce_calls=Counter(
            "salesforce_calls",
            "Salesforce REST API calls by tenant, operation and outcome.",
            ["tenant", "operation", "outcome"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        salesforce_api_remaining=Gauge(
            "salesforce_api_remaining",
            "API requests left in the org's daily budget (from Sforce-Limit-Info).",
            ["tenant"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        salesforce_api_limit=Gauge(
            "salesforce_api_limit",
            "The org's daily API request limit (from Sforce-Limit-Info).",
            ["tenant"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        request_reply=RequestReplyMetrics(registry),
        responder=ResponderMetrics(registry),
    )


def prometheus_middleware(registry: CollectorRegistry, service: str) -> KafkaPrometheusMiddleware:
    """FastStream's Kafka metrics middleware, writing into the service's registry."""
    return KafkaPrometheusMiddleware(registry=registry, app_name=service)
