"""`bootstrap()`: builds ingest's object graph from its settings; `app.py` serves it.

The two halves can run in separate deployments (`INGEST_WEBHOOK_ENABLED`,
`INGEST_NORMALISER_ENABLED`): the webhook scales with requests, the normaliser with
`chat.raw.v1`'s lag. Tests may pass their own publisher; it is then theirs to start and
stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_runtime.app import Lifecycle
from chat_runtime.health import ReadinessCheck
from chat_runtime.metrics import build_metrics, new_registry
from ingest_service.adapters.kafka import KafkaPublisher
from ingest_service.adapters.ports import Publisher
from ingest_service.adapters.recent_keys import KafkaRecentKeys
from ingest_service.adapters.tenant_settings import TenantSettingsRegions
from ingest_service.config import Settings
from ingest_service.domain.dedupe import DedupeMemory
from ingest_service.handlers.events import AcceptWebhook, NormaliseBatch
from ingest_service.metrics import IngestMetrics, build_ingest_metrics


@dataclass(kw_only=True)
class IngestService(Lifecycle):
    """ingest's use cases (each half only when enabled) and its start and stop hooks."""

    settings: Settings
    metrics: IngestMetrics
    publisher: Publisher
    accept: AcceptWebhook | None = None
    normalise: NormaliseBatch | None = None


def bootstrap(settings: Settings, *, publisher: Publisher | None = None) -> IngestService:
    """ingest for `settings`."""
    registry = new_registry()
    metrics = build_ingest_metrics(registry, build_metrics(registry))
    kit = settings.kafka()
    service = IngestService(
        registry=registry,
        settings=settings,
        metrics=metrics,
        publisher=publisher or KafkaPublisher(kit, linger_ms=settings.linger_ms),
    )
    own = service.publisher
    if isinstance(own, KafkaPublisher) and publisher is None:
        service.on_startup.append(own.start)
        service.after_shutdown.append(own.stop)  # after the broker: the last batch publishes
        service.readiness["producer"] = _is_started(own)
    if settings.webhook_enabled:
        service.accept = AcceptWebhook(
            secrets=settings.secret_bytes(),
            publisher=service.publisher,
            raw_topic=settings.raw_topic,
            replay_window_s=settings.replay_window_s,
            publish_timeout_s=settings.publish_timeout_s,
        )
    if settings.normaliser_enabled:
        regions = TenantSettingsRegions(
            kit, topic=settings.tenant_settings_topic, default_region=settings.default_phone_region
        )
        recent_keys = KafkaRecentKeys(kit)
        service.normalise = NormaliseBatch(
            publisher=service.publisher,
            recent_keys=recent_keys,
            regions=regions,
            memory=DedupeMemory(
                settings.dedupe_window_s * 1000, settings.dedupe_max_keys_per_partition
            ),
            conversations_topic=settings.conversations_topic,
            dlq_topic=settings.dlq_topic,
            metrics=metrics,
            group=settings.group_id,
        )
        service.on_startup.append(regions.start)  # phone regions known before the first batch
        service.after_shutdown += [regions.stop, recent_keys.stop]
        service.readiness["tenant_settings"] = regions.is_loaded
    return service


def _is_started(publisher: KafkaPublisher) -> ReadinessCheck:
    async def producer_connected() -> bool:
        return publisher.started

    return producer_connected
