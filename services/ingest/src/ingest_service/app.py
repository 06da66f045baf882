"""`create_app()`: builds every dependency of ingest and returns the ASGI app.

    uvicorn ingest_service.app:create_app --factory --port 8001
    python -m ingest_service          # the same, on INGEST_HTTP_HOST:INGEST_HTTP_PORT

One port serves the webhook, `/metrics`, `/healthz` and `/readyz`. The two halves can run
in separate deployments (`INGEST_WEBHOOK_ENABLED`, `INGEST_NORMALISER_ENABLED`): the
webhook scales with requests, the normaliser with `chat.raw.v1`'s lag.
"""

from __future__ import annotations

import gc

from faststream.asgi import AsgiFastStream

from chat_runtime.app import make_asgi_app, make_broker, run_app
from chat_runtime.health import ReadinessCheck
from chat_runtime.logging import configure_logging
from chat_runtime.metrics import build_metrics, new_registry
from chat_runtime.settings import load_settings_or_exit
from ingest_service.adapters.kafka import KafkaPublisher
from ingest_service.adapters.ports import Publisher
from ingest_service.adapters.recent_keys import KafkaRecentKeys
from ingest_service.adapters.tenant_settings import TenantSettingsRegions
from ingest_service.config import Settings
from ingest_service.domain.dedupe import DedupeMemory
from ingest_service.entrypoints.consumer import register_normaliser
from ingest_service.entrypoints.webhook import WEBHOOK_PATH, WebhookEndpoint
from ingest_service.handlers import AcceptWebhook, NormaliseBatch
from ingest_service.metrics import build_ingest_metrics


def create_app(
    settings: Settings | None = None, *, publisher: Publisher | None = None
) -> AsgiFastStream:
    """The ingest service for `settings` (default: the environment). Tests may pass their
    own publisher; it is then theirs to start and stop."""
    settings = settings or load_settings_or_exit(Settings)
    log = configure_logging(settings.service_name, settings.log_level, settings.log_json)
    registry = new_registry()
    metrics = build_ingest_metrics(registry, build_metrics(registry))
    broker = make_broker(settings, registry=registry)
    bootstrap = settings.kafka_bootstrap_servers
    security = settings.kafka_security().aiokafka_options()  # our clients connect as the broker
    kafka = KafkaPublisher(
        bootstrap,
        client_id=settings.service_name,
        linger_ms=settings.linger_ms,
        client_options=security,
    )
    publisher = publisher or kafka
    on_startup, after_shutdown, routes = [], [], []
    checks: dict[str, ReadinessCheck] = {}
    if publisher is kafka:
        on_startup.append(kafka.start)
        after_shutdown.append(kafka.stop)  # after the broker: the last batch publishes
        checks["producer"] = _is_started(kafka)

    if settings.webhook_enabled:
        accept = AcceptWebhook(
            secrets=settings.secret_bytes(),
            publisher=publisher,
            raw_topic=settings.raw_topic,
            replay_window_s=settings.replay_window_s,
            publish_timeout_s=settings.publish_timeout_s,
        )
        endpoint = WebhookEndpoint(accept, max_body_bytes=settings.max_body_bytes, metrics=metrics)
        routes.append((WEBHOOK_PATH, endpoint))

    if settings.normaliser_enabled:
        regions = TenantSettingsRegions(
            bootstrap,
            topic=settings.tenant_settings_topic,
            default_region=settings.default_phone_region,
            client_id=settings.service_name,
            client_options=security,
        )
        recent_keys = KafkaRecentKeys(
            bootstrap, client_id=settings.service_name, client_options=security
        )
        normalise = NormaliseBatch(
            publisher=publisher,
            recent_keys=recent_keys,
            regions=regions,
            memory=DedupeMemory(
                settings.dedupe_window_s * 1000, settings.dedupe_max_keys_per_partition
            ),
            conversations_topic=settings.conversations_topic,
            dlq_topic=settings.dlq_topic,
            metrics=metrics,
        )
        register_normaliser(broker, settings, normalise)
        on_startup.append(regions.start)  # phone regions known before the first batch
        after_shutdown += [regions.stop, recent_keys.stop]
        checks["tenant_settings"] = regions.is_loaded

    if settings.demo:
        log.warning("INGEST_DEMO is set: the demo tenant's public secret is accepted")
    log.info(
        "ingest configured",
        webhook=settings.webhook_enabled,
        normaliser=settings.normaliser_enabled,
        tenants=len(settings.webhook_secrets),
        demo=settings.demo,
    )
    return make_asgi_app(
        broker,
        settings,
        registry,
        checks,
        asgi_routes=routes,
        on_startup=on_startup,
        after_shutdown=after_shutdown,
    )


def _is_started(publisher: KafkaPublisher) -> ReadinessCheck:
    async def producer_connected() -> bool:
        return publisher.started

    return producer_connected


def main() -> None:
    """Serve ingest on the configured host and port until SIGTERM."""
    settings = load_settings_or_exit(Settings)
    app = create_app(settings)
    tune_gc()
    run_app(app, settings)


def tune_gc() -> None:
    """Process-wide garbage collector settings for a process that normalises thousands of
    events a second: each event allocates hundreds of short-lived objects (freed by their
    reference counts; they hardly ever form cycles), so CPython's default of a collection
    every 700 allocations runs several per event, and every full collection walks all the
    objects the imported libraries made. Those are frozen out of collection and young
    collections made rarer: about a tenth more events/s in bench/ingest.py."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
