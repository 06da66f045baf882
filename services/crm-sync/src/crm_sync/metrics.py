"""crm-sync's own metrics, beside the suite's (`chat_runtime.metrics`) in one registry."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from chat_runtime.metrics import NAMESPACE, ServiceMetrics


@dataclass(frozen=True, slots=True)
class SyncMetrics:
    """Chats by tenant and outcome, batch sizes, API calls spent."""

    base: ServiceMetrics
    chats: Counter
    """Chats handled; labels `tenant`, `outcome` (ok, deduped, failed, parked, skipped)."""
    batch_size: Histogram
    """Chats per tenant batch."""
    api_calls: Counter
    """Salesforce API calls spent by the sync; label `tenant`."""
    retries: Counter
    """Parked chats forwarded back to the conversations topic (`forwarded`)."""
    parked_held: Gauge
    """Parked chats the retry consumer holds in memory until they are due."""
    freshness: Histogram
    """Seconds from a chat's end to its write in Salesforce (the freshness SLO's SLI)."""


FRESHNESS_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400)
"""60 s is the freshness SLO's threshold (the alert rules read the `le="60.0"` bucket)."""


def build_sync_metrics(registry: CollectorRegistry, base: ServiceMetrics) -> SyncMetrics:
    """Create crm-sync's metrics in `registry`."""
    return SyncMetrics(
        base=base,
        chats=Counter(
            "crm_sync_chats",
            "Chats handled by crm-sync, by tenant and outcome.",
            ["tenant", "outcome"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        batch_size=Histogram(
            "crm_sync_batch_size",
            "Chats per tenant batch written to Salesforce.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200),
            namespace=NAMESPACE,
            registry=registry,
        ),
        api_calls=Counter(
            "crm_sync_api_calls",
            "Salesforce API calls spent writing chats, by tenant.",
            ["tenant"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        retries=Counter(
            "crm_sync_retries",
            "Parked chats seen by the retry consumer, by what happened to them.",
            ["outcome"],
            namespace=NAMESPACE,
            registry=registry,
        ),
        freshness=Histogram(
            "crm_sync_freshness_seconds",
            "Seconds from a chat's end to its Task/Case written in Salesforce (not redeliveries).",
            buckets=FRESHNESS_BUCKETS,
            namespace=NAMESPACE,
            registry=registry,
        ),
        parked_held=Gauge(
            "crm_sync_parked_held",
            "Parked chats held in memory by the retry consumer until they are due.",
            namespace=NAMESPACE,
            registry=registry,
        ),
    )
